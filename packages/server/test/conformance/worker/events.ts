/**
 * The events a task's life writes (SPEC §10, service/task-events.ts): one per change, one per step,
 * each with exactly its public data keys and the task's type, list and project.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { Task } from '../../../src/domain/task.js';
import type { Services } from '../../../src/service/services.js';
import type { StoredEvent, TaskStore } from '../../../src/storage/task-store.js';
import { ORG_A, T0 } from '../../helpers/task-factory.js';
import { leaseOf, type WorkerTopic } from './fixture.js';

export const taskEvents: WorkerTopic = (fx) => {
  const { create, claimById } = fx;

  describe('task events', () => {
    let store!: TaskStore;
    let clock!: ManualClock;
    let services!: Services;
    beforeEach(() => {
      ({ store, clock, services } = fx);
    });

    const eventsOf = async (taskId: string): Promise<StoredEvent[]> =>
      (await store.read((tx) => tx.listEvents(ORG_A, 0, 1_000))).filter((e) => e.taskId === taskId);
    const typeAndData = (events: readonly StoredEvent[]) => events.map((e) => [e.type, e.data]);

    it('a life from create to delete: one event per change, one per step, each with exactly its data', async () => {
      const project = await services.projects.create(ORG_A, { key: 'EVT', name: 'Events' });
      clock.set(T0 + 1_000);
      const t = await create({ listId: 'list-1', projectId: 'EVT' });
      const held = await claimById(t.id);
      const leaseId = leaseOf(held);
      await services.workers.heartbeat(ORG_A, t.id, { leaseId, progress: 0.5, progressMessage: 'half' });
      await services.workers.heartbeat(ORG_A, t.id, { leaseId });
      clock.set(T0 + 2_000);
      await services.tasks.appendSteps(ORG_A, t.id, [{ message: 'one' }, { message: 'two', data: { n: 2 } }], leaseId);
      await services.workers.complete(ORG_A, t.id, { leaseId, result: 'ok' });
      await services.tasks.patch(ORG_A, t.id, { title: 'renamed' }, null);
      await services.tasks.delete(ORG_A, t.id);

      const events = await eventsOf(t.id);
      expect(typeAndData(events)).toEqual([
        ['task.created', { status: 'queued', version: 1 }],
        ['task.status_changed', { from: 'queued', to: 'in_progress', cause: 'claim', version: 2 }],
        ['task.progress', { progress: 0.5, progressMessage: 'half', version: 3 }],
        ['task.updated', { cause: 'heartbeat', version: 4 }],
        ['task.step', { step: { time: T0 + 2_000, message: 'one' }, version: 5 }],
        ['task.step', { step: { time: T0 + 2_000, message: 'two', data: { n: 2 } }, version: 5 }],
        ['task.status_changed', { from: 'in_progress', to: 'completed', cause: 'complete', version: 6 }],
        ['task.updated', { cause: 'patch', version: 7 }],
        ['task.deleted', { version: 8 }],
      ]);
      for (const e of events) {
        expect(e).toMatchObject({ orgId: ORG_A, taskId: t.id, taskType: 'job', listId: 'list-1' });
        expect(e.projectId).toBe(project.id);
      }
    });

    it('a task without list or project: its events say null', async () => {
      const t = await create({ type: 'other' });
      const [created] = await eventsOf(t.id);
      expect(created).toMatchObject({ taskType: 'other', listId: null, projectId: null });
    });

    it('batched reports: a heartbeat with steps writes its change, then one event per step', async () => {
      const t = await create();
      const held = await claimById(t.id);
      clock.set(T0 + 3_000);
      const [result] = await services.workers.reports(ORG_A, [
        {
          taskId: t.id,
          action: 'heartbeat',
          leaseId: leaseOf(held),
          progress: 0.25,
          steps: [{ message: 'a' }, { message: 'b', data: null }],
        },
      ]);
      expect(result?.ok).toBe(true);
      expect(typeAndData((await eventsOf(t.id)).slice(2))).toEqual([
        ['task.progress', { progress: 0.25, progressMessage: null, version: 3 }],
        ['task.step', { step: { time: T0 + 3_000, message: 'a' }, version: 4 }],
        ['task.step', { step: { time: T0 + 3_000, message: 'b', data: null }, version: 4 }],
      ]);
    });

    it("an action's reason is a step: its status change, then the step's event", async () => {
      const t = await create();
      clock.set(T0 + 4_000);
      await services.tasks.action(ORG_A, t.id, 'cancel', { reason: 'not needed' });
      expect(typeAndData((await eventsOf(t.id)).slice(1))).toEqual([
        ['task.status_changed', { from: 'queued', to: 'canceled', cause: 'cancel', version: 2 }],
        ['task.step', { step: { time: T0 + 4_000, message: 'cancel: not needed' }, version: 2 }],
      ]);
    });

    it('a batch create writes one task.created per task, in order', async () => {
      const { views } = await services.tasks.createBatch(
        { orgId: ORG_A, keyName: 'k' },
        { tasks: [{ type: 'job' }, { type: 'other', listId: 'L' }] },
      );
      const created = (await store.read((tx) => tx.listEvents(ORG_A, 0, 100))).filter((e) => e.type === 'task.created');
      const tasks: Task[] = views.map((v) => v.task);
      expect(created.map((e) => [e.taskId, e.taskType, e.listId])).toEqual(tasks.map((t) => [t.id, t.type, t.listId]));
    });
  });
};
