/** Domain records → wire JSON (RFC 3339 times; a lease id only for the worker holding it). */
import type { Task as WireTask } from '@tasklane/sdk/schemas';
import type { Step } from '../domain/task.js';
import type { TaskView } from '../service/task-view.js';
import type { ApiKey } from '../domain/api-key.js';
import type { Org } from '../domain/org.js';
import type { Project } from '../domain/project.js';

/**
 * Epoch milliseconds as RFC 3339 (`Date#toISOString`), remembered for the last few distinct
 * instants: the tasks of one claim or one batch share most of theirs (the unit's time, the lease
 * expiry), and formatting costs about half a microsecond where a hit costs a few nanoseconds.
 */
export function iso(ms: number): string {
  const slot = ms & (ISO_SLOTS - 1);
  if (isoKeys[slot] === ms) return isoTexts[slot] as string;
  const text = new Date(ms).toISOString();
  isoKeys[slot] = ms;
  isoTexts[slot] = text;
  return text;
}
const ISO_SLOTS = 64;
const isoKeys = new Float64Array(ISO_SLOTS).fill(Number.NaN);
const isoTexts: string[] = new Array<string>(ISO_SLOTS).fill('');
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function presentStep(s: Step) {
  return s.data === undefined
    ? { time: iso(s.time), message: s.message }
    : { time: iso(s.time), message: s.message, data: s.data };
}

export function presentTask({ task: t, steps }: TaskView, opts: { showLeaseId?: boolean } = {}): WireTask {
  return {
    id: t.id,
    orgId: t.orgId,
    projectId: t.projectId,
    identifier: t.identifier,
    listId: t.listId,
    type: t.type,
    title: t.title,
    description: t.description,
    input: t.input,
    status: t.status,
    priority: t.priority,
    progress: t.progress,
    progressMessage: t.progressMessage,
    steps: steps.map(presentStep),
    result: t.result,
    error: t.error,
    attempt: t.attempt,
    retryCount: t.retryCount,
    maxRetries: t.maxRetries,
    retryPolicy: t.retryPolicy,
    leaseMs: t.leaseMs,
    timeoutMs: t.timeoutMs,
    runAt: isoOrNull(t.runAt),
    dependsOn: t.dependsOn,
    blockedBy: t.blockedBy,
    blockedReason: t.blockedReason,
    onDependencyFailure: t.onDependencyFailure,
    assignee: t.assignee,
    createdBy: t.createdBy,
    pollCount: t.pollCount,
    requiresReview: t.requiresReview,
    metadata: t.metadata,
    labels: t.labels,
    idempotencyKey: t.idempotencyKey,
    version: t.version,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
    queuedAt: isoOrNull(t.queuedAt),
    startedAt: isoOrNull(t.startedAt),
    completedAt: isoOrNull(t.completedAt),
    blockedAt: isoOrNull(t.blockedAt),
    archivedAt: isoOrNull(t.archivedAt),
    expiresAt: isoOrNull(t.expiresAt),
    lease:
      t.lease === null
        ? null
        : {
            ...(opts.showLeaseId === true ? { id: t.lease.id } : {}),
            workerId: t.lease.workerId,
            expiresAt: iso(t.lease.expiresAt),
          },
  };
}

export const presentOrg = (o: Org) => ({
  id: o.id,
  name: o.name,
  createdAt: iso(o.createdAt),
  defaults: { maxRetries: o.defaults.maxRetries, ttlSeconds: o.defaults.ttlSeconds },
});

export const presentKey = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  scopes: k.scopes,
  createdAt: iso(k.createdAt),
  expiresAt: isoOrNull(k.expiresAt),
  revokedAt: isoOrNull(k.revokedAt),
});

export const presentProject = (p: Project) => ({ id: p.id, key: p.key, name: p.name, createdAt: iso(p.createdAt) });
