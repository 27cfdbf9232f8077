import { AppError, type ErrorCode } from '@orchestra/lib';

/** An SSO failure with its reason (SSO_…), keeping what caused it for the logs. */
export const ssoFailure = (code: ErrorCode, message: string, reason: string, cause?: unknown): AppError =>
  new AppError(code, message, { reason, ...(cause === undefined ? {} : { cause }) });
