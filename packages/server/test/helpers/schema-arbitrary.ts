/**
 * JSON Schema → fast-check: valid values for the subset TypeBox emits for our routes (object,
 * properties, required, additionalProperties, min/maxProperties; string with min/maxLength, pattern,
 * format date-time, enum; integer and number with minimum/maximum; boolean; array with items,
 * min/maxItems, uniqueItems; anyOf; const; null; `{}` for any JSON value).
 *
 * Home-made on purpose: the one npm package that does this (json-schema-fast-check) pins fast-check 1
 * and faker 4, and the others generate code rather than arbitraries. A keyword this file does not
 * know throws, so a new schema feature fails loudly instead of yielding values the server refuses.
 *
 * Fields are named by pointers in which `*` stands for any array item (`/reports/*\/leaseId`);
 * branches of an anyOf are transparent.
 */
import fc from 'fast-check';

export type JsonSchema = { readonly [keyword: string]: unknown };

/** Keywords that say nothing about which values are valid. */
const ANNOTATIONS = new Set(['description', 'title', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly']);
const KNOWN = new Set([
  ...ANNOTATIONS,
  'type',
  'properties',
  'required',
  'additionalProperties',
  'dependentRequired',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'enum',
  'const',
  'minimum',
  'maximum',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'anyOf',
]);

export interface ArbitraryOptions {
  /** Arbitraries used as they are for the fields they name (`/leaseId`, `/reports/*\/taskId`). */
  overrides?: Readonly<Record<string, fc.Arbitrary<unknown>>>;
  /** Leave every optional property out: the smallest valid value. */
  requiredOnly?: boolean;
  /** A field whose ancestors must all be present, so that a value can be put in its place. */
  keep?: string;
}

/** Bounds that keep generated requests small and fast; the hostile values supply the big ones. */
const MAX_ITEMS = 3;
const MAX_KEYS = 3;
const MAX_STRING = 40;

/** Mostly printable ASCII, sometimes a character of two, three or four UTF-8 bytes: never NUL or a lone surrogate. */
const TEXT_UNIT = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('é', 'ß', '€', '漢', '𝄞', '😀') },
);
/** Keys of free-form objects: never `__proto__` or `constructor` (those are hostile values of their own). */
const KEY = fc
  .string({ unit: TEXT_UNIT, minLength: 1, maxLength: 12 })
  .filter((k) => k !== '__proto__' && k !== 'constructor' && k !== 'prototype');

/** Any JSON value, small, with the same keys and text as the rest. */
const ANY_JSON: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }),
    fc.string({ unit: TEXT_UNIT, maxLength: MAX_STRING }),
    fc.array(tie('value'), { maxLength: MAX_ITEMS }),
    fc.dictionary(KEY, tie('value'), { maxKeys: MAX_KEYS }),
  ),
})).value;

/** Length in code points, as JSON Schema (and ajv) count it. */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function keywordsOf(schema: JsonSchema, at: string): void {
  for (const k of Object.keys(schema)) {
    if (!KNOWN.has(k)) throw new Error(`schema-arbitrary: keyword '${k}' at ${at || '/'} is not supported`);
  }
}

/** The segments of a pointer: `/a/*\/b` → ['a', '*', 'b']. */
export function segmentsOf(pointer: string): string[] {
  return pointer === '' || pointer === '/' ? [] : pointer.slice(1).split('/');
}

/** Whether `schema` describes the field at `rest` (segments below it). */
export function describes(schema: JsonSchema, rest: readonly string[]): boolean {
  if (rest.length === 0) return true;
  const [head, ...tail] = rest as [string, ...string[]];
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as JsonSchema[]).some((b) => describes(b, rest));
  if (head === '*') return isSchema(schema.items) && describes(schema.items, tail);
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  if (props[head] !== undefined) return describes(props[head], tail);
  // Free-form: any JSON value, or an object whose other members are any JSON.
  return isFreeForm(schema) || isSchema(schema.additionalProperties);
}

function isSchema(v: unknown): v is JsonSchema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{}` or only annotations: any JSON value. */
export function isFreeForm(schema: JsonSchema): boolean {
  return Object.keys(schema).every((k) => ANNOTATIONS.has(k));
}

/** An arbitrary of values valid against `schema`. */
export function arbitraryOf(schema: JsonSchema, opts: ArbitraryOptions = {}): fc.Arbitrary<unknown> {
  return build(schema, '', opts.keep === undefined ? null : segmentsOf(opts.keep), opts);
}

function build(schema: JsonSchema, at: string, keep: string[] | null, opts: ArbitraryOptions): fc.Arbitrary<unknown> {
  const fixed = opts.overrides?.[at];
  if (fixed !== undefined) return fixed;
  keywordsOf(schema, at);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (Array.isArray(schema.anyOf)) {
    const branches = (schema.anyOf as JsonSchema[]).filter((b) => keep === null || describes(b, keep));
    if (branches.length === 0) throw new Error(`schema-arbitrary: no branch at ${at || '/'} holds ${keep?.join('/')}`);
    return fc.oneof(...branches.map((b) => build(b, at, keep, opts)));
  }
  if (isFreeForm(schema)) return ANY_JSON;
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return integerOf(schema);
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        min: num(schema.minimum, -1e12),
        max: num(schema.maximum, 1e12),
      });
    case 'string':
      return stringOf(schema, at);
    case 'array':
      return arrayOf(schema, at, keep, opts);
    case 'object':
      return objectOf(schema, at, keep, opts);
    default:
      throw new Error(`schema-arbitrary: type ${JSON.stringify(schema.type)} at ${at || '/'} is not supported`);
  }
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);

function integerOf(schema: JsonSchema): fc.Arbitrary<number> {
  const min = num(schema.minimum, -1_000_000_000);
  const max = num(schema.maximum, 1_000_000_000);
  // fc.integer is 32-bit; wider ranges (epoch-ms style limits) go through bigInt.
  if (min >= -0x80000000 && max <= 0x7fffffff) return fc.integer({ min, max });
  return fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number);
}

function stringOf(schema: JsonSchema, at: string): fc.Arbitrary<string> {
  const minLength = num(schema.minLength, 0);
  const maxLength = num(schema.maxLength, Math.max(minLength, MAX_STRING));
  const fits = (s: string) => {
    const n = codePoints(s);
    return n >= minLength && n <= maxLength;
  };
  if (schema.format !== undefined) {
    if (schema.format !== 'date-time') throw new Error(`schema-arbitrary: format '${String(schema.format)}' at ${at}`);
    // RFC 3339 UTC with milliseconds, from the ManualClock's 2026 to 2030: in the future of every test clock.
    return fc
      .date({ min: new Date(Date.UTC(2026, 0, 2)), max: new Date(Date.UTC(2030, 0, 1)), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  if (typeof schema.pattern === 'string') {
    // ajv compiles patterns with the `u` flag; fast-check generates from the same RegExp.
    const re = new RegExp(schema.pattern, 'u');
    return fc.stringMatching(re, { maxLength: Math.min(maxLength, MAX_STRING) }).filter(fits);
  }
  const upper = Math.min(maxLength, Math.max(minLength, MAX_STRING));
  return fc.string({ unit: TEXT_UNIT, minLength, maxLength: upper }).filter(fits);
}

function arrayOf(schema: JsonSchema, at: string, keep: string[] | null, opts: ArbitraryOptions): fc.Arbitrary<unknown> {
  if (!isSchema(schema.items)) throw new Error(`schema-arbitrary: array without items at ${at}`);
  const onPath = keep !== null && keep[0] === '*';
  const item = build(schema.items, `${at}/*`, onPath ? keep.slice(1) : null, opts);
  const minLength = Math.max(num(schema.minItems, 0), onPath ? 1 : 0);
  const maxLength = Math.max(minLength, Math.min(num(schema.maxItems, MAX_ITEMS), MAX_ITEMS));
  const len = opts.requiredOnly === true ? { minLength, maxLength: minLength } : { minLength, maxLength };
  if (schema.uniqueItems === true) return fc.uniqueArray(item, { ...len, selector: (v) => JSON.stringify(v) });
  return fc.array(item, len);
}

function objectOf(
  schema: JsonSchema,
  at: string,
  keep: string[] | null,
  opts: ArbitraryOptions,
): fc.Arbitrary<unknown> {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const kept = keep?.[0];
  // dependentRequired: a member that needs others. On the kept path its dependents are required too;
  // elsewhere a value that has it without them drops it (below).
  const dependents = (schema.dependentRequired ?? {}) as Record<string, string[]>;
  for (const d of kept === undefined ? [] : (dependents[kept] ?? [])) required.add(d);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredKeys: string[] = [];
  for (const [name, sub] of Object.entries(props)) {
    const onPath = kept === name;
    if (opts.requiredOnly === true && !required.has(name) && !onPath) continue;
    model[name] = build(sub, `${at}/${name}`, onPath ? (keep ?? []).slice(1) : null, opts);
    if (required.has(name) || onPath) requiredKeys.push(name);
  }
  let arb: fc.Arbitrary<Record<string, unknown>> = fc.record(model, { requiredKeys });
  if (Object.keys(dependents).length > 0) {
    arb = arb.map((o) => {
      const out = { ...o };
      for (const [name, needs] of Object.entries(dependents)) {
        if (name in out && needs.some((n) => !(n in out))) delete out[name];
      }
      return out;
    });
  }
  const extra = schema.additionalProperties;
  if (isSchema(extra) && opts.requiredOnly !== true) {
    const max = Math.min(num(schema.maxProperties, MAX_KEYS), MAX_KEYS);
    const rest = fc.dictionary(KEY, build(extra, `${at}/*`, null, opts), { maxKeys: max });
    arb = fc.tuple(arb, rest).map(([known, more]) => ({
      ...Object.fromEntries(Object.entries(more).filter(([k]) => !(k in props))),
      ...known,
    }));
  } else if (extra !== undefined && extra !== false && !isSchema(extra)) {
    throw new Error(`schema-arbitrary: additionalProperties ${JSON.stringify(extra)} at ${at}`);
  }
  const minProperties = num(schema.minProperties, 0);
  const maxProperties = num(schema.maxProperties, Infinity);
  if (minProperties > 0 && Object.keys(model).length < minProperties) {
    // requiredOnly left too few properties to choose from: take them all back.
    return objectOf(schema, at, keep, { ...opts, requiredOnly: false });
  }
  return arb.filter((o) => {
    const n = Object.keys(o).length;
    return n >= minProperties && n <= maxProperties;
  });
}
