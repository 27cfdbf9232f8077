import { hasProblems, signInProblems } from './validation';

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
