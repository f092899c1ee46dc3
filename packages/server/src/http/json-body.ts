/**
 * The input rules of the edge (docs/api.md, "Input rules"), applied before any service or storage
 * sees a value, the same whatever the backend:
 * - a body is UTF-8 JSON (any other bytes are MALFORMED_JSON), parsed once, then walked once without
 *   recursion: nesting ≤ 32 levels; every string and key valid Unicode without NUL; every number
 *   storable (`isStorableNumber`); no `__proto__` key and no `constructor.prototype` (refused on
 *   purpose, though valid JSON). Each refusal is VALIDATION_FAILED with the JSON Pointer of the value;
 * - path parameters and query strings follow the same text rule (`installTextRule`).
 * An empty body parses as {} so that optional bodies may be left out even when a client sends
 * Content-Type: application/json.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { TasklaneError } from '../domain/errors.js';
import { LIMITS } from '../domain/task.js';

declare global {
  // ES2024 (Node 20 has both); the ES2023 lib the project compiles against does not declare them.
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

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
  // A lone surrogate or a NUL can only come from a \u escape (raw control characters are not JSON,
  // and UTF-8 cannot encode a surrogate), so text without those escapes skips the text checks.
  // (`includes` first: a scan for one pair of characters is ten times cheaper than the pattern.)
  const fault = findFault(value, text.includes('\\u') && /\\u(?:[dD][89a-fA-F]|0000)/.test(text));
  if (fault !== null) throw refusal(value, fault);
  return value;
}

/**
 * The one rule for numbers: finite, and no larger in magnitude than 2^53 − 1, the largest integer
 * JavaScript (and so the task record, and most JSON clients) holds exactly. 1e400 parses to
 * Infinity and 12345678901234567890 to a neighbour, so both are refused rather than stored as null
 * or as another number; above 2^53 every double is an integer, most of them not the one written, so
 * the bound holds however the number is spelled (1e20 as much as 100000000000000000000). Inside the
 * range an integer is exact and a fraction is the nearest IEEE 754 double, as any JSON parser reads it.
 */
export function isStorableNumber(n: number): boolean {
  return n >= -Number.MAX_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER;
}

/** The one rule for text (strings, keys, path and query values): valid Unicode, and no NUL. */
export function textFault(s: string): string | null {
  if (!s.isWellFormed()) return 'is not valid Unicode (it holds a lone UTF-16 surrogate)';
  if (s.includes('\0')) return 'contains the NUL character (\\u0000)';
  return null;
}

/** Where a walk stopped: the member `key` of `parent` (`null`: the body itself), and why. */
interface Fault {
  parent: object | null;
  key: string | number | null;
  message: string;
}

/**
 * The first value of a parsed body that breaks a rule, or null. Containers wait on an explicit stack
 * with their depth (the body is level 1), so a hostile depth costs no stack; primitives are checked
 * where they stand. `checkText` is false when the body's text cannot hold a bad string.
 */
function findFault(body: unknown, checkText: boolean): Fault | null {
  if (body === null || typeof body !== 'object') return primitiveFault(body, checkText, null, null);
  const nodes: object[] = [body];
  const depths: number[] = [1];
  let node: object | undefined;
  while ((node = nodes.pop()) !== undefined) {
    const depth = depths.pop() ?? 1;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (v !== null && typeof v === 'object') {
          if (depth >= LIMITS.jsonMaxDepth) return deepFault(node, i);
          nodes.push(v);
          depths.push(depth + 1);
        } else {
          const fault = primitiveFault(v, checkText, node, i);
          if (fault !== null) return fault;
        }
      }
    } else {
      const record = node as Record<string, unknown>;
      // JSON.parse makes plain objects: for…in sees exactly their own keys.
      for (const k in record) {
        if (k === '__proto__') return { parent: node, key: k, message: 'is refused: a __proto__ key' };
        if (checkText) {
          const bad = textFault(k);
          if (bad !== null) return { parent: node, key: k, message: `has a key that ${bad}` };
        }
        const v = record[k];
        if (v !== null && typeof v === 'object') {
          if (k === 'constructor' && Object.hasOwn(v, 'prototype')) {
            return { parent: node, key: k, message: 'is refused: a constructor key with a prototype' };
          }
          if (depth >= LIMITS.jsonMaxDepth) return deepFault(node, k);
          nodes.push(v);
          depths.push(depth + 1);
        } else {
          const fault = primitiveFault(v, checkText, node, k);
          if (fault !== null) return fault;
        }
      }
    }
  }
  return null;
}

function primitiveFault(
  v: unknown,
  checkText: boolean,
  parent: object | null,
  key: string | number | null,
): Fault | null {
  if (typeof v === 'number') {
    return isStorableNumber(v)
      ? null
      : { parent, key, message: `is outside ±${Number.MAX_SAFE_INTEGER} (send larger numbers as strings)` };
  }
  if (checkText && typeof v === 'string') {
    const bad = textFault(v);
    return bad === null ? null : { parent, key, message: bad };
  }
  return null;
}

function deepFault(parent: object, key: string | number): Fault {
  return { parent, key, message: `nests deeper than ${LIMITS.jsonMaxDepth} levels` };
}

/** The refusal of a fault: VALIDATION_FAILED, its JSON Pointer found by a second walk (errors only). */
function refusal(body: unknown, fault: Fault): TasklaneError {
  const path = pointerTo(body, fault);
  return new TasklaneError('VALIDATION_FAILED', `${path} ${fault.message}`, {
    errors: [{ path, message: fault.message }],
  });
}

/** The JSON Pointer (RFC 6901) of a fault's value; a segment that is not valid Unicode is shown repaired. */
function pointerTo(body: unknown, fault: Fault): string {
  if (fault.parent === null) return '/';
  // Each container's parent and key, recorded until the fault's parent is reached.
  const up = new Map<object, [object, string | number]>();
  const todo: object[] = [body as object];
  let node: object | undefined;
  while ((node = todo.pop()) !== undefined && node !== fault.parent) {
    for (const [k, v] of Object.entries(node)) {
      if (v !== null && typeof v === 'object') {
        up.set(v as object, [node, Array.isArray(node) ? Number(k) : k]);
        todo.push(v as object);
      }
    }
  }
  const segments: Array<string | number> = [];
  if (fault.key !== null) segments.push(fault.key);
  for (let at = up.get(fault.parent); at !== undefined; at = up.get(at[0])) segments.push(at[1]);
  return segments
    .reverse()
    .map((s) => `/${String(s).toWellFormed().replaceAll('~', '~0').replaceAll('/', '~1')}`)
    .join('');
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
