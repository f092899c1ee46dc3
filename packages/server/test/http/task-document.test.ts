/**
 * The two ways the API writes a task agree: the presenter (presentTask, every answer but a GET)
 * and the store's task document (storage/task-document.ts, the GET's body, rendered in SQL). The
 * storage suite holds every adapter's document to the wire task of test/helpers/wire-task.ts; this
 * holds the presenter to both, so a field that changes in one place and not the others fails here.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Step, Task } from '../../src/domain/task.js';
import { presentTask } from '../../src/http/presenters.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { ORG_A, T0, makeTask, uuidV7 } from '../helpers/task-factory.js';
import { wireTask } from '../helpers/wire-task.js';

describe('presentTask and the task document', () => {
  let store: TaskStore;
  beforeEach(async () => {
    store = createSqliteStore({ path: ':memory:', clock: new ManualClock() });
    await store.migrate();
    await store.write((tx) => tx.insertOrg({ id: ORG_A, name: 'Org A', createdAt: T0 }));
  });
  afterEach(() => store.close());

  const plain = makeTask({ id: uuidV7(1) });
  const full: Task = makeTask({
    id: uuidV7(2),
    projectId: 'prj_1',
    identifier: 'OPS-7',
    listId: 'list-1',
    title: 'Ünïcödé "quoted" \\ back\nslash \u2028 🚀',
    description: 'tab\there',
    input: { nested: { a: [1, 2.5, -3e-7, true, null, 'x'] }, big: 12345678901234, empty: {}, list: [] },
    status: 'in_progress',
    priority: -12,
    progress: 1 / 3,
    progressMessage: 'a third',
    result: 'text result',
    error: { code: 'TIMED_OUT', message: 'late', retryable: true },
    attempt: 2,
    retryCount: 1,
    leaseMs: 30_000,
    timeoutMs: 90_000,
    runAt: T0 + 1,
    dependsOn: ['d1', 'd2'],
    blockedBy: ['d2'],
    blockedReason: 'waiting',
    assignee: 'ada',
    pollCount: 9,
    requiresReview: true,
    metadata: { k: 'v', n: 1 },
    labels: ['x', 'y'],
    idempotencyKey: 'idem-1',
    version: 7,
    createdAt: T0 + 1,
    updatedAt: T0 + 999,
    queuedAt: T0 + 10,
    startedAt: T0 + 20,
    blockedAt: T0 + 30,
    archivedAt: Date.UTC(2099, 11, 31, 23, 59, 59, 5),
    expiresAt: Date.UTC(1999, 0, 1, 0, 0, 0, 0),
    timeoutAt: T0 + 90_020,
    lease: { id: 'lease-secret', workerId: 'w-1', expiresAt: T0 + 30_020, lengthMs: 30_000 },
  });
  const steps: Step[] = [
    { time: T0 + 1, message: 'one' },
    { time: T0 + 2, message: 'two', data: { n: 2, list: [1, 'x'] } },
    { time: T0 + 3, message: 'three', data: null },
  ];

  it('say the same, field for field and in the same order, and both agree with the wire task', async () => {
    await store.write(async (tx) => {
      await tx.insertTasks([plain, full]);
      await tx.appendSteps(ORG_A, full.id, steps);
    });
    for (const [task, its] of [
      [plain, []],
      [full, steps],
    ] as const) {
      const presented = presentTask({ task, steps: [...its] });
      const document: unknown = JSON.parse((await store.getTaskDocument(ORG_A, { id: task.id }))?.json ?? 'null');
      expect(document).toEqual(presented);
      expect(Object.keys(document as object)).toEqual(Object.keys(presented));
      expect(wireTask({ task, steps: its })).toEqual(presented);
    }
  });
});
