/**
 * The statuses and scopes are listed once, in the SDK's vocabulary (`@tasklane/sdk/vocabulary`),
 * and the domain and the wire schemas take them from there. If the package export stopped
 * resolving, or a side grew a list of its own again, these fail.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EventDataSchemas, EventTypeSchema, ScopeSchema, TaskStatusSchema } from '@tasklane/sdk/schemas';
import * as vocabulary from '@tasklane/sdk/vocabulary';
import { describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/domain/scope.js';
import { ACTIVE_STATUSES, STATUSES, TERMINAL_STATUSES, isActive, isTerminal } from '../../src/domain/status.js';

const SOURCE = fileURLToPath(new URL('../../../sdk/src/vocabulary.ts', import.meta.url));

/** The literal values of a TypeBox union of literals. */
const literals = (schema: { anyOf: Array<{ const: unknown }> }) => schema.anyOf.map((s) => s.const);

describe('the shared vocabulary', () => {
  it('is the list the domain uses, not a copy', () => {
    expect(STATUSES).toBe(vocabulary.STATUSES);
    expect(ACTIVE_STATUSES).toBe(vocabulary.ACTIVE_STATUSES);
    expect(TERMINAL_STATUSES).toBe(vocabulary.TERMINAL_STATUSES);
    expect(SCOPES).toBe(vocabulary.SCOPES);
  });

  it('is what the wire schemas accept', () => {
    expect(literals(TaskStatusSchema)).toEqual([...STATUSES]);
    expect(literals(ScopeSchema)).toEqual([...SCOPES]);
    expect(literals(EventTypeSchema)).toEqual([...vocabulary.EVENT_TYPES]);
    expect(Object.keys(EventDataSchemas)).toEqual([...vocabulary.EVENT_TYPES]);
  });

  it('splits the statuses into active and terminal the way the domain decides', () => {
    expect(STATUSES.filter((s) => isTerminal(s))).toEqual([...TERMINAL_STATUSES]);
    expect(STATUSES.filter((s) => isActive(s))).toEqual([...ACTIVE_STATUSES]);
  });

  it('imports nothing, so the domain may depend on it', () => {
    const source = readFileSync(SOURCE, 'utf8');
    expect(source).not.toMatch(/^\s*(import|export\s.*\sfrom)\b/m);
    expect(source).not.toMatch(/\bimport\s*\(|\brequire\s*\(/);
  });
});
