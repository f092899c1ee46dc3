/**
 * One task in every native status (and the failure variants and the archive flag the status maps tell
 * apart), made the way clients and workers make them: the native client API and the worker API. Only a
 * timeout, which no API causes on demand, goes through the harness's `drive` (the service's own
 * transition, the domain's table).
 */
import type { TaskStatus } from '../../../src/domain/status.js';
import type { Harness, WireTask } from '../../helpers/http-harness.js';

export type Case =
  | 'backlog'
  | 'blocked_by_dependency'
  | 'blocked_manually'
  | 'queued'
  | 'in_progress'
  | 'needs_review'
  | 'completed'
  | 'failed_terminal'
  | 'failed_retries_spent'
  | 'failed_timed_out'
  | 'canceled'
  | 'archived';

export interface Fixture {
  id: string;
  status: TaskStatus;
  task: WireTask;
}

/** Each case's native status. */
export const CASE_STATUS: Record<Case, TaskStatus> = {
  backlog: 'backlog',
  blocked_by_dependency: 'blocked',
  blocked_manually: 'blocked',
  queued: 'queued',
  in_progress: 'in_progress',
  needs_review: 'needs_review',
  completed: 'completed',
  failed_terminal: 'failed',
  failed_retries_spent: 'failed',
  failed_timed_out: 'failed',
  canceled: 'canceled',
  archived: 'completed',
};

async function ok(res: { statusCode: number; body: string }, what: string, status = 200): Promise<void> {
  if (res.statusCode !== status) throw new Error(`${what}: expected ${status}, got ${res.statusCode}: ${res.body}`);
}

/** Make every case in the org of `key` (an admin key). Types are unique per call, so claims take the intended task. */
export async function tasksInEveryStatus(
  h: Harness,
  key: string,
  orgId: string,
  tag = 'fx',
): Promise<Record<Case, Fixture>> {
  const type = (c: string) => `${tag}.${c}`;
  const create = (c: string, body: Record<string, unknown> = {}) =>
    h.createTask(key, { type: type(c), title: `A ${c} task`, input: { prompt: `Do the ${c} thing` }, ...body });
  const claim = async (c: string): Promise<{ id: string; leaseId: string }> => {
    const res = await h.call(key, 'POST', '/v1/tasks/claim', { types: [type(c)], workerId: `worker-${c}` });
    await ok(res, `claim ${c}`);
    const t = res.json<{ tasks: Array<{ id: string; lease: { id: string } }> }>().tasks[0];
    if (t === undefined) throw new Error(`nothing to claim for ${c}`);
    return { id: t.id, leaseId: t.lease.id };
  };
  const report = async (id: string, action: string, body: Record<string, unknown>) =>
    ok(await h.call(key, 'POST', `/v1/tasks/${id}/${action}`, body), `${action} ${id}`);

  const backlog = await create('backlog', { start: false });
  const dependency = await create('dependency');
  const blockedByDependency = await create('blocked_by_dependency', { dependsOn: [dependency.id] });
  const blockedManually = await create('blocked_manually');
  await report(blockedManually.id, 'block', { reason: 'Waiting for legal.' });
  const queued = await create('queued');

  await create('in_progress', { listId: 'list-1' });
  const inProgress = await claim('in_progress');
  await report(inProgress.id, 'heartbeat', {
    leaseId: inProgress.leaseId,
    progress: 0.5,
    progressMessage: 'Halfway',
    steps: [{ message: 'Started' }],
  });

  await create('needs_review', { requiresReview: true });
  const review = await claim('needs_review');
  await report(review.id, 'complete', { leaseId: review.leaseId, result: { draft: true } });

  await create('completed');
  const done = await claim('completed');
  await report(done.id, 'heartbeat', { leaseId: done.leaseId, steps: [{ message: 'Policy created', data: { n: 1 } }] });
  await report(done.id, 'complete', { leaseId: done.leaseId, result: { ok: true } });

  await create('failed_terminal');
  const terminal = await claim('failed_terminal');
  await report(terminal.id, 'fail', {
    leaseId: terminal.leaseId,
    error: { code: 'BAD_INPUT', message: 'No such target.' },
    retryable: false,
  });

  await create('failed_retries_spent', { maxRetries: 0 });
  const spent = await claim('failed_retries_spent');
  await report(spent.id, 'fail', { leaseId: spent.leaseId, error: { message: 'Flaky upstream.' } });

  await create('failed_timed_out', { maxRetries: 0, timeoutMs: 60_000 });
  const timedOut = await claim('failed_timed_out');
  await h.drive(orgId, timedOut.id, { name: 'timeout' });

  const canceled = await create('canceled');
  await report(canceled.id, 'cancel', {});

  await create('archived');
  const archived = await claim('archived');
  await report(archived.id, 'complete', { leaseId: archived.leaseId, result: 42 });
  await report(archived.id, 'archive', {});

  const ids: Record<Case, string> = {
    backlog: backlog.id,
    blocked_by_dependency: blockedByDependency.id,
    blocked_manually: blockedManually.id,
    queued: queued.id,
    in_progress: inProgress.id,
    needs_review: review.id,
    completed: done.id,
    failed_terminal: terminal.id,
    failed_retries_spent: spent.id,
    failed_timed_out: timedOut.id,
    canceled: canceled.id,
    archived: archived.id,
  };
  const out = {} as Record<Case, Fixture>;
  for (const [c, id] of Object.entries(ids) as Array<[Case, string]>) {
    const task = await h.getTask(key, id);
    if (task.status !== CASE_STATUS[c]) throw new Error(`fixture ${c} is ${task.status}, not ${CASE_STATUS[c]}`);
    out[c] = { id, status: task.status, task };
  }
  return out;
}

export const CASES = Object.keys(CASE_STATUS) as Case[];
