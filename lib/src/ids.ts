import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7, validate as uuidValidate } from 'uuid';

/** A new UUIDv7: time-ordered, so ids sort by creation and index well. */
export const newId = (): string => uuidv7();

export const isUuid = (value: string): boolean => uuidValidate(value);

const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

/**
 * `size` bytes from the system's CSPRNG, drawn from a pool filled 4 KiB at a time (as Node's own
 * randomUUID does): one call into OpenSSL per ~170 request ids instead of one or more per request
 * (~1.4% of the gateway's busy time under load went to randomFillSync). Read at once: the bytes are
 * a view of the pool, which is refilled in place.
 */
export function pooledRandomBytes(size: number): Buffer {
  if (size > RANDOM_POOL_BYTES) throw new RangeError(`pooledRandomBytes: at most ${RANDOM_POOL_BYTES} bytes (asked ${size})`);
  if (randomOffset + size > randomPool.length) {
    if (randomPool.length === 0) randomPool = Buffer.allocUnsafeSlow(RANDOM_POOL_BYTES);
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const bytes = randomPool.subarray(randomOffset, randomOffset + size);
  randomOffset += size;
  return bytes;
}

/** A request id for logs and error messages (short enough to read out, unique enough to search). */
export const newRequestId = (): string => `req_${pooledRandomBytes(9).toString('base64url')}`;
