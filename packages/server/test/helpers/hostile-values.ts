/**
 * Hostile values and where they go: the fields a schema describes (every depth, array items, union
 * branches, members of free-form JSON), putting one value in one field of a valid request, and
 * serializing it as raw JSON text, since JSON.stringify cannot write `1e400`, a 30-digit integer or a
 * `__proto__` key.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { isFreeForm, segmentsOf, type JsonSchema } from './schema-arbitrary.js';

/** JSON text spliced into a body as it is. */
export class RawJson {
  constructor(readonly text: string) {}
}

export interface HostileValue {
  /** The class a failure is grouped under. */
  name: string;
  value: unknown;
  /** Only in free-form JSON (input, metadata, result, data, details): elsewhere it is just a wrong type. */
  freeFormOnly?: boolean;
  /**
   * No backend can keep it as sent, so every server must refuse it wherever it appears: lone
   * surrogates are not Unicode text (PostgreSQL refuses them; I-JSON, RFC 7493, forbids them), a
   * non-finite number has no JSON form to answer with, NUL is refused by design (docs/errors.md),
   * and SPEC §8 caps JSON depth at 32.
   */
  alwaysRefused?: boolean;
}

const nested = (depth: number): RawJson => new RawJson('['.repeat(depth) + ']'.repeat(depth));

export const BODY_HOSTILES: readonly HostileValue[] = [
  { name: 'lone surrogate', value: 'a\ud800b', alwaysRefused: true },
  { name: 'lone surrogate as a key', value: { '\udc00': 1 }, freeFormOnly: true, alwaysRefused: true },
  { name: 'number 1e400', value: new RawJson('1e400'), alwaysRefused: true },
  // Beyond ±(2^53−1) JavaScript cannot hold it exactly: refused everywhere (docs/api.md, input rules).
  { name: '30-digit integer', value: new RawJson('123456789012345678901234567890'), alwaysRefused: true },
  { name: 'NUL', value: 'a\u0000b', alwaysRefused: true },
  { name: '70 KB string', value: 'x'.repeat(70 * 1024) },
  { name: '40-deep nesting', value: nested(40), alwaysRefused: true },
  { name: '__proto__ key', value: new RawJson('{"__proto__":{"polluted":true}}'), freeFormOnly: true },
  {
    name: 'constructor.prototype key',
    value: new RawJson('{"constructor":{"prototype":{"polluted":true}}}'),
    freeFormOnly: true,
  },
  { name: 'impossible date', value: '2026-02-30T25:61:00Z' },
];

/** Values for a path, query or header slot, as sent (already percent-encoded). */
export const URL_HOSTILES: ReadonlyArray<[string, string]> = [
  ['percent-encoded lone surrogate', '%ED%A0%80'],
  ['percent-encoded NUL', '%00'],
  ['invalid UTF-8 byte', '%FF'],
  ['bare percent', '%'],
  ['300-char value', 'a'.repeat(300)],
  ['dot-dot-slash', '..%2F..%2Fetc%2Fpasswd'],
  ['1e400', '1e400'],
  ['30-digit integer', '123456789012345678901234567890'],
  ['impossible date', '2026-02-30T25%3A61%3A00Z'],
];

export const HEADER_HOSTILES: ReadonlyArray<[string, string]> = [
  ['empty', ''],
  ['space inside', 'a b'],
  ['latin-1 byte', 'caf\u00e9'],
  ['lone quote', '"'],
  ['star', '*'],
  ['weak etag', 'W/"1"'],
  ['etag 1e400', '"1e400"'],
  ['30-digit etag', '"123456789012345678901234567890"'],
  ['negative etag', '"-1"'],
  ['300-char value', 'a'.repeat(300)],
  ['1,000 etags', Array.from({ length: 1000 }, (_, i) => `"${i}"`).join(', ')],
];

/** A value of another JSON type than the field's (none for free-form fields). */
export function wrongTypeFor(schema: JsonSchema): HostileValue[] {
  if (isFreeForm(schema)) return [];
  const types = new Set(typesOf(schema));
  const candidates: Array<[string, unknown]> = [
    ['string', 'not-the-type'],
    ['integer', 7],
    ['boolean', true],
    ['object', {}],
    ['array', []],
    ['null', null],
  ];
  // The first JSON type the field does not take, and null where the field is not nullable.
  const other = candidates.find(([t]) => !types.has(t) && !(t === 'integer' && types.has('number')));
  const out: HostileValue[] = [];
  if (other !== undefined && other[0] !== 'null') out.push({ name: `wrong type (${other[0]})`, value: other[1] });
  if (!types.has('null')) out.push({ name: 'wrong type (null)', value: null });
  return out;
}

function typesOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as JsonSchema[]).flatMap(typesOf);
  if ('const' in schema || Array.isArray(schema.enum)) {
    const vals = 'const' in schema ? [schema.const] : (schema.enum as unknown[]);
    return vals.map((v) => (v === null ? 'null' : typeof v));
  }
  return typeof schema.type === 'string' ? [schema.type] : [];
}

/** Keys no typed object of a request may have: each must be refused as an unknown field, not as bad JSON. */
export const UNKNOWN_KEYS: ReadonlyArray<HostileValue & { key: string }> = [
  { key: '__proto__', name: '__proto__ as an unknown field', value: new RawJson('{"polluted":true}') },
  {
    key: 'constructor',
    name: 'constructor as an unknown field',
    value: new RawJson('{"prototype":{"polluted":true}}'),
  },
];

export interface Field {
  /** Pointer with `*` for array items: `/tasks/*\/retryPolicy/delayMs`. */
  pointer: string;
  schema: JsonSchema;
}

/**
 * Every field `schema` describes, parents before children, each pointer once (a property that
 * several union branches share is one field). A free-form field also gets one member, `k`, so
 * hostile values reach inside free-form JSON too.
 */
export function fieldsOf(schema: JsonSchema, at = ''): Field[] {
  const out = new Map<string, Field>();
  const visit = (s: JsonSchema, p: string, top: boolean): void => {
    if (!top && !out.has(p)) out.set(p, { pointer: p, schema: s });
    if (Array.isArray(s.anyOf)) for (const b of s.anyOf as JsonSchema[]) visit(b, p, true);
    if (isFreeForm(s)) {
      // One level is enough: the hostile values nest themselves.
      if (!p.endsWith('/k')) out.set(`${p}/k`, { pointer: `${p}/k`, schema: s });
      return;
    }
    for (const [name, sub] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>))
      visit(sub, `${p}/${name}`, false);
    if (typeof s.additionalProperties === 'object' && s.additionalProperties !== null) {
      visit(s.additionalProperties as JsonSchema, `${p}/k`, false);
    }
    if (typeof s.items === 'object' && s.items !== null) visit(s.items as JsonSchema, `${p}/*`, false);
  };
  visit(schema, at, true);
  return [...out.values()];
}

/** The pointer as it names a place in one request: `*` becomes the first item. */
export const instancePointer = (pointer: string): string => pointer.replaceAll('/*', '/0');

/**
 * A copy of `base` with `value` at `pointer` (`*` = item 0). Containers missing on the way, which
 * only happens inside free-form JSON (generation keeps typed ancestors present), are created.
 */
export function withValueAt(base: unknown, pointer: string, value: unknown): unknown {
  const segments = segmentsOf(pointer);
  if (segments.length === 0) return value;
  const root = structuredClone(base);
  const wrap = (v: unknown, next: string): Record<string, unknown> | unknown[] => {
    if (next === '*') return Array.isArray(v) ? v : [];
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  };
  const top = wrap(root, segments[0] ?? '');
  let node: Record<string, unknown> | unknown[] = top;
  for (const [i, seg] of segments.entries()) {
    const key = seg === '*' ? 0 : seg;
    const last = i === segments.length - 1;
    const slot = node as Record<string | number, unknown>;
    // defineProperty: a plain assignment to `__proto__` would set the prototype, not a key.
    const child = last ? value : wrap(slot[key], segments[i + 1] ?? '');
    Object.defineProperty(slot, key, { value: child, enumerable: true, writable: true, configurable: true });
    if (!last) node = child as Record<string, unknown> | unknown[];
  }
  return top;
}

/** JSON text of `value`, with every RawJson spliced in as written. */
export function toJsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `\u0001raw${raws.length - 1}\u0001`;
    }
    return v;
  });
  if (text === undefined) throw new Error('toJsonText: not JSON');
  return text.replace(/"\\u0001raw(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)] ?? '');
}

/** The value a server sees once it parsed the text (1e400 → Infinity, 30 digits → a rounded double). */
export function parsedValue(value: unknown): unknown {
  return value instanceof RawJson ? JSON.parse(value.text) : value;
}

/** Bodies are validated as app.ts does: formats checked, no coercion. */
const validator = addFormats.default(new Ajv.default({ strict: false, coerceTypes: false, useDefaults: false }));

/** Whether the server must refuse `hostile` in a field of `schema`: it breaks the schema, or no backend can keep it. */
export function mustRefuse(schema: JsonSchema, hostile: HostileValue): boolean {
  if (hostile.alwaysRefused === true) return true;
  return !validator.validate(schema, parsedValue(hostile.value));
}
