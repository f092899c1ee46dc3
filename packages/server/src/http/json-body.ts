/**
 * The input rules of the edge (docs/api.md, "Input rules"), applied before any service or storage
 * sees a value, the same whatever the backend:
 * - a body is UTF-8 JSON (any other bytes are MALFORMED_JSON), parsed once, then walked once without
 *   recursion: nesting ≤ 32 levels; every string and key valid Unicode without NUL; every number
 *   storable (`isStorableNumber`); no `__proto__` key and no `constructor.prototype` (refused on
 *   purpose, though valid JSON). Each refusal is VALIDATION_FAILED with the JSON Pointer of the value.
 *   The rules and the walk are domain/value-rules.ts, which the service's content rules hold too;
 * - path parameters and query strings follow the same text rule (`installTextRule`).
 * An empty body parses as {} so that optional bodies may be left out even when a client sends
 * Content-Type: application/json.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { TasklaneError } from '../domain/errors.js';
import { LIMITS } from '../domain/task.js';
import { findValueFault, mayBreakTextRule, textFault } from '../domain/value-rules.js';

export function installJsonParser(app: FastifyInstance): void {
  // JSON only: Fastify's text/plain parser goes too, so any other media type answers 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    // application/json or application/*+json, with parameters (`; charset=utf-8`) or without.
    /^application\/([a-z0-9.-]+\+)?json\s*(;.*)?$/i,
    // As bytes: decoding them as a string would turn bytes that are not UTF-8 into U+FFFD unseen.
    { parseAs: 'buffer', bodyLimit: LIMITS.bodyMaxBytes },
    (_request, body, done) => {
      try {
        done(null, parseJsonBody(body as Buffer));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
}

/** A body as the routes see it, or the TasklaneError that refuses it. */
export function parseJsonBody(bytes: Buffer): unknown {
  if (!isUtf8(bytes)) throw new TasklaneError('MALFORMED_JSON', 'The body is not valid UTF-8.');
  // A leading byte order mark is ignored, as RFC 8259 §8.1 allows (and as secure-json-parse did).
  const text = bytes.toString('utf8', bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    if (text.trim() === '') return {};
    throw new TasklaneError('MALFORMED_JSON', 'The body is not valid JSON.');
  }
  const fault = findValueFault(value, mayBreakTextRule(text));
  if (fault !== null) {
    const path = fault.pointer === '' ? '/' : fault.pointer;
    throw new TasklaneError('VALIDATION_FAILED', `${path} ${fault.message}`, {
      errors: [{ path, message: fault.message }],
    });
  }
  return value;
}

/**
 * The text rule on what the router and the query parser decoded: a path parameter or a query key or
 * value (`%00`) that is not valid text is VALIDATION_FAILED naming it (`params/taskId`,
 * `querystring/label`), before authentication, as a URL that does not decode is. A path that names
 * no route is left to the not-found answer.
 */
export function installTextRule(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const faults = [
      ...partFaults('params', request.params as Record<string, unknown>),
      ...partFaults('querystring', request.query as Record<string, unknown>),
    ];
    if (faults.length > 0) {
      throw new TasklaneError('VALIDATION_FAILED', faults.map((f) => `${f.path} ${f.message}`).join('; '), {
        errors: faults,
      });
    }
  });
}

function partFaults(
  part: string,
  values: Record<string, unknown> | undefined,
): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  for (const [name, value] of Object.entries(values ?? {})) {
    const path = `${part}/${name.toWellFormed()}`;
    const bad = textFault(name);
    if (bad !== null) out.push({ path, message: `has a name that ${bad}` });
    for (const v of Array.isArray(value) ? value : [value]) {
      const fault = typeof v === 'string' ? textFault(v) : null;
      if (fault !== null) out.push({ path, message: fault });
    }
  }
  return out;
}

/**
 * For the scope of a route that takes its body as text, not JSON (Conductor's task log line, which
 * its servers read as a plain string whatever the media type): in that scope only, every media type
 * (and none) is read as text, within the 1 MiB body limit, UTF-8 (other bytes are refused, never
 * replaced by U+FFFD) and without NUL. The JSON parser everywhere else is unchanged.
 */
export function installTextBodyParser(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: LIMITS.bodyMaxBytes }, (_request, body, done) => {
    try {
      done(null, parseTextBody(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

export function parseTextBody(bytes: Buffer): string {
  if (!isUtf8(bytes)) throw new TasklaneError('MALFORMED_JSON', 'The body is not valid UTF-8.');
  const text = bytes.toString('utf8');
  // Decoded UTF-8 holds no lone surrogate; NUL is the text rule's to refuse.
  const bad = textFault(text);
  if (bad !== null) {
    throw new TasklaneError('VALIDATION_FAILED', `The body ${bad}.`, { errors: [{ path: '/', message: bad }] });
  }
  return text;
}
