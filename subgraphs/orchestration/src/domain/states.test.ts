import { AppError } from '@orchestra/lib';
import { assertRunTransition, canAttemptTransition, canRunTransition, canTaskTransition } from './states';

describe('state transitions', () => {
  it('lets runs finish once and be retried only from FAILED or CANCELLED', () => {
    expect(canRunTransition('QUEUED', 'RUNNING')).toBe(true);
    expect(canRunTransition('RUNNING', 'SUCCEEDED')).toBe(true);
    expect(canRunTransition('SUCCEEDED', 'RUNNING')).toBe(false);
    expect(canRunTransition('FAILED', 'RUNNING')).toBe(true);
    expect(canRunTransition('CANCELLED', 'RUNNING')).toBe(true);
    expect(canRunTransition('SUCCEEDED', 'CANCELLED')).toBe(false);
  });

  it('refuses an invalid run transition with CONFLICT naming both states', () => {
    let error: unknown;
    try {
      assertRunTransition('r1', 'SUCCEEDED', 'CANCELLED');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('CONFLICT');
    expect((error as AppError).message).toBe('run r1 is SUCCEEDED and cannot become CANCELLED');
  });

  it('never completes a task or an attempt twice', () => {
    expect(canTaskTransition('SUCCEEDED', 'SUCCEEDED')).toBe(false);
    expect(canTaskTransition('RUNNING', 'SUCCEEDED')).toBe(true);
    expect(canTaskTransition('PENDING', 'RUNNING')).toBe(false);
    expect(canAttemptTransition('SUCCEEDED', 'SUCCEEDED')).toBe(false);
    expect(canAttemptTransition('LOST', 'SUCCEEDED')).toBe(false);
    expect(canAttemptTransition('CANCELLED', 'SUCCEEDED')).toBe(false);
    expect(canAttemptTransition('RUNNING', 'LOST')).toBe(true);
  });
});
