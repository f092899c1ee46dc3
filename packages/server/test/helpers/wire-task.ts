/**
 * A task as the API answers it (SPEC §2, the SDK's TaskSchema): the reference the storage suite
 * holds each adapter's task document (storage/task-document.ts) to, written from the schema here
 * so that storage tests need nothing of src/http/. test/http/task-document.test.ts checks that the
 * HTTP presenter and the document agree, so all three say the same.
 */
import type { Task as WireTask } from '@tasklane/sdk/schemas';
import type { Step, Task } from '../../src/domain/task.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** The wire JSON of `task` with its `steps`, keys in the schema's order; the lease without its id. */
export function wireTask({ task: t, steps }: { task: Task; steps: readonly Step[] }): WireTask {
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
    steps: steps.map((s) =>
      s.data === undefined
        ? { time: iso(s.time), message: s.message }
        : { time: iso(s.time), message: s.message, data: s.data },
    ),
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
    lease: t.lease === null ? null : { workerId: t.lease.workerId, expiresAt: iso(t.lease.expiresAt) },
  };
}
