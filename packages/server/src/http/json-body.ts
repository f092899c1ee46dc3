/**
 * The JSON body parser: secure-json-parse (refuses __proto__ / constructor poisoning), then a
 * depth limit (SPEC §8: depth ≤ 32). An empty body parses as {} so that optional bodies may be
 * left out even when a client sends Content-Type: application/json.
 */
import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { TasklaneError } from '../domain/errors.js';
import { LIMITS } from '../domain/task.js';

export function installJsonParser(app: FastifyInstance): void {
  // JSON only: Fastify's text/plain parser goes too, so any other media type answers 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    // application/json or application/*+json, with parameters (`; charset=utf-8`) or without.
    /^application\/([a-z0-9.-]+\+)?json\s*(;.*)?$/i,
    { parseAs: 'string', bodyLimit: LIMITS.bodyMaxBytes },
    (_request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, {});
      let value: unknown;
      try {
        value = sjson.parse(text, { protoAction: 'error', constructorAction: 'error' });
      } catch {
        return done(new TasklaneError('MALFORMED_JSON', 'The body is not valid JSON.'), undefined);
      }
      if (depthOf(value) > LIMITS.jsonMaxDepth) {
        return done(
          new TasklaneError('VALIDATION_FAILED', `The body nests deeper than ${LIMITS.jsonMaxDepth} levels.`),
          undefined,
        );
      }
      // NUL cannot be stored by every backend (PostgreSQL text and jsonb refuse it): refused on all.
      if (text.includes('\\u0000') && hasNul(value)) {
        return done(new TasklaneError('VALIDATION_FAILED', 'The body contains a NUL character (\\u0000).'), undefined);
      }
      done(null, value);
    },
  );
}

/** Nesting depth of a JSON value, without recursion (a hostile body cannot blow the stack). */
export function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > LIMITS.jsonMaxDepth) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** Whether any string (key or value) in a parsed JSON value contains U+0000. */
function hasNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\0')) return true;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\0')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

/** `input` and `result` are capped at 256 KiB each once serialized. */
export function assertPayloadSize(path: string, value: unknown): void {
  if (value === undefined) return;
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > LIMITS.payloadMaxBytes) {
    throw new TasklaneError('PAYLOAD_TOO_LARGE', `${path} is ${bytes} bytes; the limit is ${LIMITS.payloadMaxBytes}.`, {
      errors: [{ path, message: `larger than ${LIMITS.payloadMaxBytes} bytes` }],
    });
  }
}
