import { hasProblems, passwordChangeProblems, signInProblems } from './validation';

describe('sign-in checks', () => {
  it('asks for what is missing before anything is sent', () => {
    expect(signInProblems({ email: '', password: '' })).toEqual({ email: 'Enter your email address.', password: 'Enter your password.' });
    expect(signInProblems({ email: '  ', password: 'x' })).toEqual({ email: 'Enter your email address.' });
    expect(signInProblems({ email: 'ada', password: 'x' }).email).toMatch(/such as/);
  });

  it('lets a complete form through', () => {
    const problems = signInProblems({ email: ' ada@example.com ', password: 'correct horse' });
    expect(problems).toEqual({});
    expect(hasProblems(problems)).toBe(false);
  });
});

describe('password change checks', () => {
  it('asks for both passwords and a matching confirmation', () => {
    expect(passwordChangeProblems({ currentPassword: '', newPassword: '', confirmation: '' })).toEqual({ currentPassword: 'Enter your current password.', newPassword: 'Enter a new password.' });
    expect(passwordChangeProblems({ currentPassword: 'old-one-here', newPassword: 'Lighthouse-keeper-42', confirmation: 'Lighthouse-keeper-24' })).toEqual({ confirmation: 'The two new passwords differ.' });
    expect(passwordChangeProblems({ currentPassword: 'same-same-same', newPassword: 'same-same-same', confirmation: 'same-same-same' }).newPassword).toMatch(/other than/);
    expect(hasProblems(passwordChangeProblems({ currentPassword: 'old-one-here', newPassword: 'Lighthouse-keeper-42', confirmation: 'Lighthouse-keeper-42' }))).toBe(false);
  });
});
