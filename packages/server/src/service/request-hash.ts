/** The fingerprint of a create request, for Idempotency-Key: same key and same body → same task. */
import stringify from 'safe-stable-stringify';
import { sha256Hex } from './ids.js';

export function requestHash(kind: string, body: unknown): string {
  // Key order does not matter ({"a":1,"b":2} is the same request as {"b":2,"a":1}).
  return sha256Hex(`${kind}\n${stringify(body) ?? ''}`);
}
