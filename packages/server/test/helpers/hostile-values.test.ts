/**
 * Where the OpenAPI fuzz test's hostile values go (every depth, array items, free-form members),
 * how they are written (raw JSON where JSON.stringify cannot), and when a server must refuse them.
 */
import { describe, expect, test } from 'vitest';
import {
  BODY_HOSTILES,
  RawJson,
  fieldsOf,
  instancePointer,
  mustRefuse,
  toJsonText,
  withValueAt,
  wrongTypeFor,
} from './hostile-values.js';
import type { JsonSchema } from './schema-arbitrary.js';

describe('hostile values', () => {
  const schema: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    properties: {
      retry: { type: 'object', additionalProperties: false, properties: { delayMs: { type: 'integer', maximum: 10 } } },
      input: { description: 'Any JSON value' },
      metadata: { type: 'object', additionalProperties: {} },
      tags: { type: 'array', items: { type: 'string' } },
      at: { type: 'string', format: 'date-time' },
    },
  };

  test('fieldsOf names every depth: nested, array items, free-form members', () => {
    expect(fieldsOf(schema).map((f) => f.pointer)).toEqual([
      '/retry',
      '/retry/delayMs',
      '/input',
      '/input/k',
      '/metadata',
      '/metadata/k',
      '/tags',
      '/tags/*',
      '/at',
    ]);
    expect(instancePointer('/tags/*')).toBe('/tags/0');
  });

  test('withValueAt writes raw JSON where JSON.stringify cannot, and __proto__ as a key', () => {
    const base = { retry: {} };
    expect(toJsonText(withValueAt(base, '/retry/delayMs', new RawJson('1e400')))).toBe('{"retry":{"delayMs":1e400}}');
    expect(toJsonText(withValueAt(base, '/input/k', new RawJson('123456789012345678901234567890')))).toBe(
      '{"retry":{},"input":{"k":123456789012345678901234567890}}',
    );
    expect(toJsonText(withValueAt(base, '/retry/__proto__', new RawJson('{"polluted":true}')))).toBe(
      '{"retry":{"__proto__":{"polluted":true}}}',
    );
    expect(toJsonText(withValueAt(base, '/tags/*', 'a\ud800b'))).toBe('{"retry":{},"tags":["a\\ud800b"]}');
    expect(base).toEqual({ retry: {} });
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  test('a value must be refused where it breaks the field schema, and the unkeepable ones everywhere', () => {
    const named = (n: string) => BODY_HOSTILES.find((h) => h.name === n)!;
    const fields = Object.fromEntries(fieldsOf(schema).map((f) => [f.pointer, f.schema]));
    expect(mustRefuse(fields['/input']!, named('70 KB string'))).toBe(false);
    expect(mustRefuse(fields['/input']!, named('lone surrogate'))).toBe(true);
    expect(mustRefuse(fields['/input']!, named('number 1e400'))).toBe(true);
    expect(mustRefuse(fields['/input']!, named('30-digit integer'))).toBe(true); // beyond ±(2^53−1): refused (docs/api.md, input rules)
    expect(mustRefuse(fields['/at']!, named('impossible date'))).toBe(true);
    expect(mustRefuse(fields['/tags/*']!, named('impossible date'))).toBe(false);
    expect(mustRefuse(fields['/retry/delayMs']!, named('30-digit integer'))).toBe(true);
    expect(wrongTypeFor(fields['/retry/delayMs']!).map((h) => h.value)).toEqual(['not-the-type', null]);
    expect(wrongTypeFor(fields['/input']!)).toEqual([]);
  });
});
