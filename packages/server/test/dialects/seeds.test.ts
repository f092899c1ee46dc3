/**
 * The schemas the contract tests take from the seed documents are the seeds' own and they bite: each
 * seed's example (where it has one) passes its schema, and an answer with a field too many, one too few
 * or of the wrong type fails it. Without this, a parser that read nothing would pass every contract test.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, test } from 'vitest';
import {
  COPIED_SEEDS_DIR,
  SHARED_SEEDS_DIR,
  jsonExample,
  makeValidator,
  markdownFieldSchema,
  openApiSchemas,
  quantFieldSchema,
  schemaFromExample,
  seedText,
} from './helpers/seeds.js';

const ajv = makeValidator();

describe('000 MindFort: OpenAPI YAML', () => {
  const schemas = openApiSchemas(seedText('000'));
  test('TaskResponse and ErrorResponse, with string fields', () => {
    expect(Object.keys(schemas.TaskResponse?.properties as object)).toEqual(['task_id', 'status']);
    expect(Object.keys(schemas.ErrorResponse?.properties as object)).toEqual(['error', 'request_id']);
    const valid = ajv.compile(schemas.TaskResponse ?? {});
    expect(valid({ task_id: 'o::u', status: 'queued' })).toBe(true);
    expect(valid({ task_id: 1, status: 'queued' })).toBe(false);
  });
});

describe('001 Capy: OpenAPI YAML', () => {
  const schemas = openApiSchemas(seedText('001'));
  const valid = ajv.compile(schemas.Task ?? {});
  const task = {
    id: 'u',
    projectId: 'p',
    threadIndex: null,
    identifier: 'CAP-1',
    title: 't',
    prompt: 'p',
    status: 'queued',
    pullRequest: null,
    slackThreads: [],
    currentJamId: null,
    createdAt: 'c',
    updatedAt: 'u',
    threadId: null,
  };
  test('Task: every required field, no other, the status enum', () => {
    expect(valid(task), JSON.stringify(valid.errors)).toBe(true);
    expect(valid({ ...task, extra: 1 })).toBe(false);
    const { prompt: _omitted, ...missing } = task;
    expect(valid(missing)).toBe(false);
    expect(valid({ ...task, status: 'failed' })).toBe(false);
  });
  test('ErrorResponse: {error: {code, message, details}}', () => {
    const err = ajv.compile(schemas.ErrorResponse ?? {});
    expect(err({ error: { code: 'not_found', message: 'm', details: {} } })).toBe(true);
    expect(err({ error: 'not_found' })).toBe(false);
  });
});

describe('002 Conductor: the JSON example', () => {
  const example = jsonExample(seedText('002')) as Record<string, unknown>;
  const valid = ajv.compile(schemaFromExample(example, new Set(['inputData', 'outputData'])));
  test('the example passes; a missing field, a string time or a missing workflowTask field fails', () => {
    expect(valid(example)).toBe(true);
    const { seq: _seq, ...missing } = example;
    expect(valid(missing)).toBe(false);
    expect(valid({ ...example, scheduledTime: '2024-12-20T12:22:15Z' })).toBe(false);
    const { type: _type, ...workflowTask } = example.workflowTask as Record<string, unknown>;
    expect(valid({ ...example, workflowTask })).toBe(false);
    expect(valid({ ...example, inputData: { anything: [1] }, outputData: {} })).toBe(true);
  });
});

describe('003 QuantCDN: the rendered field list', () => {
  const { schema, example } = quantFieldSchema(seedText('003'));
  const valid = ajv.compile(schema);
  const props = schema.properties as Record<
    string,
    { type: unknown; format?: string; maximum?: number; enum?: unknown[] }
  >;
  test('every field of the page, with its type, format, nullability, bound and enum', () => {
    expect(Object.keys(props)).toHaveLength(24);
    expect(props.taskId).toEqual({ type: 'string', format: 'uuid' });
    expect(props.taskListId).toEqual({ type: ['string', 'null'] });
    expect(props.progress).toEqual({ type: 'number', format: 'float', maximum: 1 });
    expect(props.error).toEqual({ type: ['string', 'null'] });
    expect(props.createdAt).toEqual({ type: 'integer', format: 'int64' });
    expect(props.blockedByTaskIds).toEqual({ type: ['array', 'null'], items: { type: 'string' } });
    expect(props.status?.enum).toEqual(['pending', 'in_progress', 'completed', 'failed', 'cancelled', 'blocked']);
  });
  test('the example passes; progress over 1, an ISO time, an unknown field or status fails', () => {
    expect(valid(example), JSON.stringify(valid.errors)).toBe(true);
    const base = example as Record<string, unknown>;
    expect(valid({ ...base, progress: 1.5 })).toBe(false);
    expect(valid({ ...base, createdAt: '2025-01-01T00:00:00Z' })).toBe(false);
    expect(valid({ ...base, extra: true })).toBe(false);
    expect(valid({ ...base, status: 'queued' })).toBe(false);
    expect(valid({ ...base, error: { message: 'x' } })).toBe(false);
  });
});

describe('004 Guardian: the field table and the example', () => {
  const text = seedText('004');
  const example = jsonExample(text) as Record<string, unknown>;
  const schema = markdownFieldSchema(text, '| Field', example);
  const valid = ajv.compile(schema);
  test('six fields with their types; the example passes; a wrong type or a field too many fails', () => {
    expect(schema.required).toEqual(['taskId', 'action', 'done', 'error', 'result', 'steps']);
    expect(valid(example)).toBe(true);
    expect(valid({ ...example, done: 'yes' })).toBe(false);
    expect(valid({ ...example, error: 'boom' })).toBe(false);
    expect(valid({ ...example, status: 'x' })).toBe(false);
    expect(valid({ ...example, steps: [{ time: 1, message: 'm' }] })).toBe(false);
  });
});

describe('the copy of the seeds kept in the repository', () => {
  it.runIf(existsSync(SHARED_SEEDS_DIR))('is byte for byte the shared original', () => {
    const names = readdirSync(SHARED_SEEDS_DIR).sort();
    expect(readdirSync(COPIED_SEEDS_DIR).sort()).toEqual(names);
    for (const name of names) {
      expect(readFileSync(join(COPIED_SEEDS_DIR, name), 'utf8'), name).toBe(
        readFileSync(join(SHARED_SEEDS_DIR, name), 'utf8'),
      );
    }
  });
});
