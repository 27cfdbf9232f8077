/**
 * Checks the forms make before anything is sent: a required field left empty is said next to the
 * field at once, rather than coming back from the server as an error with a request id.
 */

/** The password rules identity applies to new passwords (PASSWORD_MIN_LENGTH defaults to 10). */
export const PASSWORD_RULES = '10 characters or more, not a common password, and not containing your name or email address.';

const looksLikeEmail = (value: string): boolean => /^[^\s@]+@[^\s@]+$/.test(value);

export type FieldProblems<K extends string> = Partial<Record<K, string | undefined>>;

export function signInProblems(input: { email: string; password: string }): FieldProblems<'email' | 'password'> {
  const problems: FieldProblems<'email' | 'password'> = {};
  const email = input.email.trim();
  if (!email) problems.email = 'Enter your email address.';
  else if (!looksLikeEmail(email)) problems.email = 'Enter an email address such as ada@example.com.';
  if (!input.password) problems.password = 'Enter your password.';
  return problems;
}

export const hasProblems = (problems: FieldProblems<string>): boolean => Object.values(problems).some((p) => p !== undefined);

export function passwordChangeProblems(input: { currentPassword: string; newPassword: string; confirmation: string }): FieldProblems<'currentPassword' | 'newPassword' | 'confirmation'> {
  const problems: FieldProblems<'currentPassword' | 'newPassword' | 'confirmation'> = {};
  if (!input.currentPassword) problems.currentPassword = 'Enter your current password.';
  if (!input.newPassword) problems.newPassword = 'Enter a new password.';
  else if (input.newPassword === input.currentPassword) problems.newPassword = 'Choose a password other than the current one.';
  if (input.newPassword && input.confirmation !== input.newPassword) problems.confirmation = 'The two new passwords differ.';
  return problems;
}
