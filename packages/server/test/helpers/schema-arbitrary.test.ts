/**
 * The JSON Schema → fast-check converter of the OpenAPI fuzz test yields only values the server's
 * validator (ajv, configured as in app.ts) accepts: for each keyword, and for every schema the
 * served OpenAPI document has.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeHarness, type Harness } from './http-harness.js';
import { arbitraryOf, codePoints, type JsonSchema } from './schema-arbitrary.js';

const ajv = addFormats.default(new Ajv.default({ strict: false, coerceTypes: false, allErrors: true }));
const RUNS = { seed: 7, numRuns: 200 };

function expectValid(schema: JsonSchema, opts: Parameters<typeof arbitraryOf>[1] = {}): void {
  const validate = ajv.compile(schema);
  fc.assert(
    fc.property(arbitraryOf(schema, opts), (v) => {
      if (!validate(v)) throw new Error(`${JSON.stringify(v)}: ${ajv.errorsText(validate.errors)}`);
    }),
    RUNS,
  );
}

describe('arbitraryOf yields only valid values', () => {
  const cases: Array<[string, JsonSchema]> = [
    ['string bounds', { type: 'string', minLength: 2, maxLength: 5 }],
    ['string pattern', { type: 'string', pattern: '^[A-Z][A-Z0-9]{1,9}$' }],
    ['pattern with escapes and a length cap', { type: 'string', pattern: '^[\\x21-\\x7e]+$', maxLength: 8 }],
    ['date-time', { type: 'string', format: 'date-time' }],
    ['enum', { type: 'string', enum: ['a', 'b'] }],
    ['const', { const: 'fixed' }],
    ['integer bounds', { type: 'integer', minimum: -3, maximum: 3 }],
    ['integer beyond 32 bits', { type: 'integer', minimum: 0, maximum: 31_536_000_000 }],
    ['number bounds', { type: 'number', minimum: 0, maximum: 1 }],
    ['boolean', { type: 'boolean' }],
    ['null', { type: 'null' }],
    ['nullable string', { anyOf: [{ type: 'string', maxLength: 3 }, { type: 'null' }] }],
    [
      'array bounds, unique',
      {
        type: 'array',
        items: { type: 'integer', minimum: 0, maximum: 3 },
        minItems: 1,
        maxItems: 3,
        uniqueItems: true,
      },
    ],
    ['free-form', { description: 'Any JSON value' }],
    ['free-form object', { type: 'object', additionalProperties: {}, maxProperties: 2 }],
    [
      'closed object',
      {
        type: 'object',
        additionalProperties: false,
        required: ['a'],
        properties: { a: { type: 'string', minLength: 1 }, b: { type: 'integer' } },
      },
    ],
    [
      'object with minProperties',
      {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: { a: { type: 'boolean' }, b: { type: 'boolean' } },
      },
    ],
  ];
  test.each(cases)('%s', (_name, schema) => {
    expectValid(schema);
    expectValid(schema, { requiredOnly: true });
  });

  test('maxLength counts code points, as ajv does', () => {
    expect(codePoints('a😀é')).toBe(3);
    expectValid({ type: 'string', minLength: 3, maxLength: 3 });
  });
});

describe('arbitraryOf options', () => {
  const schema: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: {
      id: { type: 'string', minLength: 1 },
      note: { type: 'string' },
      items: {
        type: 'array',
        items: {
          anyOf: [
            { type: 'object', additionalProperties: false, required: ['kind'], properties: { kind: { const: 'a' } } },
            {
              type: 'object',
              additionalProperties: false,
              required: ['kind'],
              properties: { kind: { const: 'b' }, deep: { type: 'integer' } },
            },
          ],
        },
      },
    },
  };
  const one = (opts: Parameters<typeof arbitraryOf>[1]) =>
    fc.sample(arbitraryOf(schema, opts), { seed: 1, numRuns: 20 });

  test('requiredOnly leaves optional properties out', () => {
    for (const v of one({ requiredOnly: true })) expect(Object.keys(v as object)).toEqual(['id']);
  });

  test('keep makes every ancestor of a field present, through arrays and the union branch that has it', () => {
    for (const v of one({ requiredOnly: true, keep: '/items/*/deep' })) {
      const item = (v as { items: Array<{ kind: string; deep?: number }> }).items[0];
      expect(item?.kind).toBe('b');
      expect(typeof item?.deep).toBe('number');
    }
  });

  test('overrides are used as they are, by pointer', () => {
    for (const v of one({ overrides: { '/id': fc.constant('~~queued.id~~') } }))
      expect((v as { id: string }).id).toBe('~~queued.id~~');
  });

  test('an unknown keyword or format fails loudly', () => {
    expect(() => arbitraryOf({ type: 'string', format: 'email' })).toThrow(/format 'email'/);
    expect(() => arbitraryOf({ oneOf: [{ type: 'string' }] })).toThrow(/keyword 'oneOf'/);
    expect(() => arbitraryOf({ type: 'object', patternProperties: {} })).toThrow(/patternProperties/);
  });
});

describe('every schema the served OpenAPI document has', () => {
  let h: Harness;
  let schemas: Array<[string, JsonSchema]>;
  beforeAll(async () => {
    h = await makeHarness();
    const doc = (await h.call(null, 'GET', '/openapi.json')).json<{
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: Array<{ name: string; schema: JsonSchema }>;
            requestBody?: { content: Record<string, { schema: JsonSchema }> };
          }
        >
      >;
    }>();
    schemas = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) => [
        ...(op.parameters ?? []).map((p): [string, JsonSchema] => [`${method} ${path} ${p.name}`, p.schema]),
        ...Object.values(op.requestBody?.content ?? {}).map((c): [string, JsonSchema] => [
          `${method} ${path} body`,
          c.schema,
        ]),
      ]),
    );
  });
  afterAll(() => h.cleanup());

  test('yields valid values for each (bodies as sent: no coercion)', () => {
    expect(schemas.length).toBeGreaterThan(40);
    for (const [name, schema] of schemas) {
      const validate = ajv.compile(schema);
      for (const v of fc.sample(arbitraryOf(schema), { seed: 3, numRuns: 30 })) {
        expect(validate(v), `${name}: ${JSON.stringify(v)?.slice(0, 300)}`).toBe(true);
      }
    }
  });
});
