import { setTimeout as sleep } from 'node:timers/promises';
import { generate } from 'otplib';

const STEP_SECONDS = 30;
/** A request in a test takes well under this; a code asked for closer than this to a step's end waits for the next step. */
const MARGIN_SECONDS = 3;

/**
 * The code an authenticator app shows `offset` time steps from now (-1 the previous code, 1 the next).
 * Near the end of a step it first waits for the next one: otherwise the step can turn between making
 * the code and the server checking it, and a code one step away falls out of the server's window.
 */
export async function totpCode(secret: string, offset = 0): Promise<string> {
  const intoStep = (Date.now() / 1000) % STEP_SECONDS;
  if (intoStep > STEP_SECONDS - MARGIN_SECONDS) await sleep((STEP_SECONDS - intoStep) * 1000 + 50);
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * STEP_SECONDS });
}
