import { randomBytes } from 'node:crypto';
import { v7 as uuidv7, validate as uuidValidate } from 'uuid';

/** A new UUIDv7: time-ordered, so ids sort by creation and index well. */
export const newId = (): string => uuidv7();

export const isUuid = (value: string): boolean => uuidValidate(value);

/** A request id for logs and error messages (short enough to read out, unique enough to search). */
export const newRequestId = (): string => `req_${randomBytes(9).toString('base64url')}`;
