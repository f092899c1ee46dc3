/**
 * The content rules live in the use cases (service/task-rules.ts), so a caller that is not the JSON
 * parser (a dialect composing fields, code in the process) cannot hand storage what the edge would
 * refuse: a lone surrogate (PostgreSQL answered 500 on it inside jsonb), NaN or 1e400 (stored as
 * null), a bigint, a cycle, a 300 KiB result, a 600-character title, runAt with delayMs. Each is the
 * catalogue error naming the value, on SQLite and PostgreSQL, and nothing is stored. The limits the
 * rules hold are the wire schemas' own (checked here, so the two cannot drift).
 */
import {
  BulkByIdsBody,
  FailBody,
  HeartbeatBody,
  StepInput,
  TYPE_NAME_PATTERN,
  TaskActionBody,
  TaskCreateBody,
  TaskPatchBody,
} from '@tasklane/sdk/schemas';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TasklaneError } from '../../src/domain/errors.js';
import { LIMITS, TYPE_PATTERN } from '../../src/domain/task.js';
import type { Services } from '../../src/service/services.js';
import { edgeBackends, type EdgeApp } from '../http/edge-backends.js';

const ORG = 'default';
const caller = { orgId: ORG, keyName: 'in-process' };
const big = (bytes: number) => ({ blob: 'x'.repeat(bytes) });

/** The catalogue error a call is refused with, checked to name exactly `path`. */
async function refused(call: Promise<unknown>, path: string, code = 'VALIDATION_FAILED'): Promise<TasklaneError> {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TasklaneError);
  const e = err as TasklaneError;
  expect({ code: e.code, paths: e.errors?.map((f) => f.path) }).toEqual({ code, paths: [path] });
  return e;
}

describe('the limits the rules hold are the wire schemas’', () => {
  const p = TaskCreateBody.properties;
  test.each([
    ['title', p.title.maxLength, LIMITS.titleMaxLength],
    ['description', p.description.anyOf[0].maxLength, LIMITS.descriptionMaxLength],
    ['metadata keys', p.metadata.maxProperties, LIMITS.metadataMaxKeys],
    ['labels', p.labels.maxItems, LIMITS.labelsMax],
    ['a label', p.labels.items.maxLength, LIMITS.labelMaxLength],
    ['listId', p.listId.maxLength, LIMITS.nameMaxLength],
    ['createdBy', p.createdBy.maxLength, LIMITS.nameMaxLength],
    ['assignee', p.assignee.anyOf[0].maxLength, LIMITS.nameMaxLength],
    ['projectId', p.projectId.maxLength, LIMITS.refMaxLength],
    ['patch title', TaskPatchBody.properties.title.maxLength, LIMITS.titleMaxLength],
    ['a step message', StepInput.properties.message.maxLength, LIMITS.stepMessageMaxLength],
    ['progressMessage', HeartbeatBody.properties.progressMessage.maxLength, LIMITS.progressMessageMaxLength],
    ['an error message', FailBody.properties.error.properties.message.maxLength, LIMITS.errorMessageMaxLength],
    ['an error code', FailBody.properties.error.properties.code.maxLength, LIMITS.errorCodeMaxLength],
    ['a reason', TaskActionBody.properties.reason.maxLength, LIMITS.reasonMaxLength],
    ['a bulk reason', BulkByIdsBody.properties.reason.maxLength, LIMITS.reasonMaxLength],
    ['delayMs', p.delayMs.maximum, LIMITS.delayMaxMs],
  ])('%s', (_what, schema, limit) => {
    expect(schema).toBe(limit);
  });

  test('the type pattern', () => expect(TYPE_NAME_PATTERN).toBe(TYPE_PATTERN));
});

describe.each(edgeBackends('task-rules'))('an in-process caller, on $name', (backend) => {
  let e: EdgeApp;
  let s: Services;
  let n = 0;
  const freshType = () => `rules.t${++n}`;
  beforeAll(async () => {
    e = await backend.open();
    s = e.services;
  });
  afterAll(() => e.cleanup());

  const stored = async (type: string) => (await s.tasks.list(ORG, { type }, 10, undefined)).items;
  const claimed = async () => {
    const type = freshType();
    const { view } = await s.tasks.create(caller, { type });
    const [held] = await s.workers.claim(ORG, { types: [type], workerId: 'w', limit: 1, waitMs: 0 });
    if (held?.task.lease == null) throw new Error('claim failed');
    return { id: view.task.id, leaseId: held.task.lease.id, version: held.task.version };
  };

  test.each<[string, Record<string, unknown>, string]>([
    ['a lone surrogate in the title', { title: 'scan \ud800' }, '/title'],
    ['NUL in a label', { labels: ['a\0b'] }, '/labels/0'],
    ['a lone surrogate deep in input', { input: { a: [{ b: 'x\udc00' }] } }, '/input/a/0/b'],
    ['a lone surrogate in a key of input', { input: { ['k\ud800']: 1 } }, '/input/k\ufffd'],
    ['NaN in input', { input: { n: NaN } }, '/input/n'],
    ['Infinity in metadata', { metadata: { n: Infinity } }, '/metadata/n'],
    ['a bigint in input', { input: { n: 10n } }, '/input/n'],
    ['a 501-character title', { title: 't'.repeat(501) }, '/title'],
    [
      'a 65th metadata key',
      { metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])) },
      '/metadata',
    ],
  ])('create: %s is VALIDATION_FAILED, nothing stored', async (_what, fields, path) => {
    const type = freshType();
    await refused(s.tasks.create(caller, { type, ...fields }), path);
    expect(await stored(type)).toEqual([]);
  });

  test('create: a cycle in input is refused as too deep (named by its first key), not a crash', async () => {
    const type = freshType();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const err = await refused(s.tasks.create(caller, { type, input: cyclic }), '/input/self');
    expect(err.message).toMatch(/deeper than 32/);
    expect(await stored(type)).toEqual([]);
  });

  test('create: input over 256 KiB is PAYLOAD_TOO_LARGE; in a batch, named by its index', async () => {
    const type = freshType();
    await refused(s.tasks.create(caller, { type, input: big(300_000) }), '/input', 'PAYLOAD_TOO_LARGE');
    await refused(
      s.tasks.createBatch(caller, { tasks: [{ type }, { type, input: big(300_000) }] }),
      '/tasks/1/input',
      'PAYLOAD_TOO_LARGE',
    );
    expect(await stored(type)).toEqual([]);
  });

  test('create: runAt with delayMs, alone or in a batch', async () => {
    const type = freshType();
    const both = { type, runAt: '2030-01-01T00:00:00Z', delayMs: 5 };
    expect((await refused(s.tasks.create(caller, both), '/delayMs')).message).toBe('Give runAt or delayMs, not both.');
    await refused(s.tasks.createBatch(caller, { tasks: [{ type }, both] }), '/tasks/1/delayMs');
    expect(await stored(type)).toEqual([]);
  });

  test('patch: a 600-character title is refused; 500 emoji (1,000 UTF-16 units) are 500 characters', async () => {
    const { view } = await s.tasks.create(caller, { type: freshType() });
    await refused(s.tasks.patch(ORG, view.task.id, { title: 'x'.repeat(600) }, null), '/title');
    const emoji = '\u{1F600}'.repeat(500);
    expect((await s.tasks.patch(ORG, view.task.id, { title: emoji }, null)).task.title).toBe(emoji);
  });

  test('worker reports: result, step data and error details are held to the rules; the task is left as it was', async () => {
    const t = await claimed();
    await refused(s.workers.complete(ORG, t.id, { leaseId: t.leaseId, result: { k: 'a\ud800' } }), '/result/k');
    await refused(
      s.workers.complete(ORG, t.id, { leaseId: t.leaseId, result: big(300_000) }),
      '/result',
      'PAYLOAD_TOO_LARGE',
    );
    await refused(
      s.workers.heartbeat(ORG, t.id, { leaseId: t.leaseId, steps: [{ message: 'ok', data: big(300_000) }] }),
      '/steps/0/data',
      'PAYLOAD_TOO_LARGE',
    );
    await refused(
      s.workers.fail(ORG, t.id, { leaseId: t.leaseId, error: { message: 'no', details: big(300_000) } }),
      '/error/details',
      'PAYLOAD_TOO_LARGE',
    );
    await refused(
      s.workers.fail(ORG, t.id, { leaseId: t.leaseId, error: { message: 'x'.repeat(10_001) } }),
      '/error/message',
    );
    await refused(s.tasks.appendSteps(ORG, t.id, [{ message: 'm\0' }], t.leaseId), '/steps/0/message');
    await refused(
      s.workers.reports(ORG, [
        { taskId: t.id, action: 'heartbeat', leaseId: t.leaseId },
        { taskId: t.id, action: 'complete', leaseId: t.leaseId, result: big(300_000) },
      ]),
      '/reports/1/result',
      'PAYLOAD_TOO_LARGE',
    );
    const after = await s.tasks.get(ORG, t.id);
    expect(after.task).toMatchObject({ status: 'in_progress', version: t.version, result: null });
    expect(after.steps).toEqual([]);
  });

  test('bulk: a reason that breaks the rules refuses the call once, and no task is touched', async () => {
    const { view } = await s.tasks.create(caller, { type: freshType() });
    const ids = [view.task.id];
    await refused(s.bulk.run(ORG, { action: 'cancel', target: { ids }, reason: 'no \ud800' }), '/reason');
    await refused(s.bulk.run(ORG, { action: 'cancel', target: { ids }, reason: 'r'.repeat(2001) }), '/reason');
    expect((await s.tasks.get(ORG, view.task.id)).task).toMatchObject({ status: 'queued', version: 1 });
  });
});
