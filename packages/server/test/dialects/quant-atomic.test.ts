/**
 * A QuantCDN request is one unit of work, all or nothing, on SQLite and PostgreSQL. A `PUT` that
 * changes the status and fields and progress was up to four units (move, claim, patch, heartbeat):
 * a refusal or a storage failure after the first left the task half changed (started but not
 * taken, cancelled but not renamed). A create asked `blocked` was a create and a block. Now each
 * request either applies whole or leaves the task exactly as it was: same version, no step, no event.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Response, WireTask } from '../helpers/http-harness.js';
import { appOver, eventsOf, failingAt } from '../helpers/store-faults.js';
import { edgeBackends, type EdgeApp } from '../http/edge-backends.js';

const ORG = 'default';
const BASE = `/compat/quant/api/v3/organizations/${ORG}/ai/tasks`;

describe.each(edgeBackends('quant-atomic'))('QuantCDN, one unit per request, on $name', (backend) => {
  let e: EdgeApp;
  beforeAll(async () => {
    e = await backend.open();
  });
  afterAll(() => e.cleanup());

  const native = async (id: string): Promise<WireTask> => (await e.call('GET', `/v1/tasks/${id}`)).json<WireTask>();
  const create = async (body: Record<string, unknown>): Promise<string> => {
    const res = await e.call('POST', BASE, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ taskId: string }>().taskId;
  };
  /** The task, its events: what "left exactly as it was" compares. */
  const snapshot = async (id: string) => ({ task: await native(id), events: await eventsOf(e.store, ORG, id) });
  const quantError = (res: Response, status: number, code: string) => {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json()).toEqual({ error: expect.any(String), code });
  };

  test('PUT status and a title over the limit: the status change is refused with it (400, nothing applied)', async () => {
    const id = await create({ title: 'Render the report' });
    const before = await snapshot(id);
    quantError(
      await e.call('PUT', `${BASE}/${id}`, { status: 'cancelled', title: 'x'.repeat(600) }),
      400,
      'VALIDATION_FAILED',
    );
    expect(await snapshot(id)).toEqual(before);
  });

  test('PUT in_progress on a backlog task whose dependency is open: started then not claimable, so neither (409)', async () => {
    const dep = await create({ title: 'First' });
    const id = (
      await e.call('POST', '/v1/tasks', { type: 'quant.task', dependsOn: [dep], start: false })
    ).json<WireTask>().id;
    const before = await snapshot(id);
    expect(before.task.status).toBe('backlog');
    quantError(
      await e.call('PUT', `${BASE}/${id}`, { status: 'in_progress', assignedAgentId: 'agent-1' }),
      409,
      'INVALID_TRANSITION',
    );
    expect(await snapshot(id)).toEqual(before);
  });

  test('PUT in_progress with a title and progress (a claim, a patch, a heartbeat), storage failing at the last: none applied', async () => {
    const id = await create({ title: 'Summarise' });
    const before = await snapshot(id);
    const body = { status: 'in_progress', assignedAgentId: 'agent-1', title: 'Summarising', progress: 0.5 };
    // The claim and the patch write the task's row; the heartbeat's row write fails: the unit rolls back.
    const broken = await appOver(failingAt(e.store, 'updateTasks', { after: 2 }));
    try {
      const res = await broken.inject({
        method: 'PUT',
        url: `${BASE}/${id}`,
        headers: { authorization: `Bearer ${e.key}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      quantError(res, 500, 'INTERNAL_ERROR');
    } finally {
      await broken.close();
    }
    expect(await snapshot(id)).toEqual(before);
    // On healthy storage the same PUT applies whole.
    const res = await e.call('PUT', `${BASE}/${id}`, body);
    expect(res.statusCode, res.body).toBe(200);
    expect(await native(id)).toMatchObject({
      status: 'in_progress',
      assignee: 'agent-1',
      title: 'Summarising',
      progress: 0.5,
      version: before.task.version + 3,
    });
  });

  test('PUT progress on a task another agent holds: 409, and the rename in the same PUT is not applied', async () => {
    const id = await create({ title: 'Held' });
    await e.call('PUT', `${BASE}/${id}`, { status: 'in_progress', assignedAgentId: 'agent-1' });
    const before = await snapshot(id);
    quantError(
      await e.call('PUT', `${BASE}/${id}`, { title: 'Renamed', progress: 0.3, assignedAgentId: 'agent-2' }),
      409,
      'LEASE_LOST',
    );
    expect(await snapshot(id)).toEqual(before);
  });

  test('create blocked is one unit: storage failing at the block leaves no task', async () => {
    const title = `Blocked at birth ${backend.name}`;
    const broken = await appOver(failingAt(e.store, 'updateTasks'));
    try {
      const res = await broken.inject({
        method: 'POST',
        url: BASE,
        headers: { authorization: `Bearer ${e.key}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ title, status: 'blocked', blockedReason: 'waiting for legal' }),
      });
      quantError(res, 500, 'INTERNAL_ERROR');
    } finally {
      await broken.close();
    }
    const list = (await e.call('GET', `${BASE}?limit=100`)).json<{ tasks: Array<{ title: string }> }>();
    expect(list.tasks.filter((t) => t.title === title)).toEqual([]);
    const id = await create({ title, status: 'blocked', blockedReason: 'waiting for legal' });
    expect(await native(id)).toMatchObject({ status: 'blocked', blockedReason: 'waiting for legal', version: 2 });
    expect(await eventsOf(e.store, ORG, id)).toEqual(['task.created v1', 'task.status_changed v2']);
  });
});
