/** Identifiers and secrets. Task ids are UUIDv7 (time-ordered, so "newest first" is "id descending"). */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `n` characters drawn uniformly from base62 (rejection sampling: no modulo bias). */
export function randomBase62(n: number): string {
  let out = '';
  while (out.length < n) {
    for (const byte of randomBytes(n * 2)) {
      if (byte < 248 && out.length < n) out += BASE62[byte % 62];
    }
  }
  return out;
}

export const newTaskId = (): string => uuidv7();
export const newProjectId = (): string => uuidv7();
/**
 * A lease id only has to be unguessable and never repeat: a random (v4) UUID, which Node draws
 * from a pool of entropy in a fraction of the time a v7 takes (a claim makes one per task).
 */
export const newLeaseId = (): string => randomUUID();
export const newKeyId = (): string => `key_${randomBase62(16)}`;

export const KEY_PREFIX = 'tl_';
export const KEY_PATTERN = /^tl_[0-9A-Za-z]{32,128}$/;
export const newKeySecret = (): string => KEY_PREFIX + randomBase62(40);

export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const IDENTIFIER_PATTERN = /^[A-Z][A-Z0-9]{1,9}-[1-9][0-9]{0,9}$/;
