/** Turns a validated create request into a draft task record, filling every default. */
import type { TaskCreate } from '@tasklane/sdk/schemas';
import type { OrgDefaults } from '../domain/org.js';
import type { TypeConfig } from '../storage/task-store.js';
import {
  DEFAULT_MAX_RETRIES,
  DEFAULT_RETRY_POLICY,
  DEFAULT_TTL_SECONDS,
  type Json,
  type JsonObject,
  type Task,
} from '../domain/task.js';

export interface DraftContext {
  id: string;
  orgId: string;
  now: number;
  /** The creating key's name: the default of `createdBy`. */
  keyName: string;
  /** The resolved project (id and identifier), when the task is in one. */
  project: { id: string; identifier: string } | null;
  /** Dependencies as task ids (batch refs already resolved). */
  dependsOn: string[];
  idempotencyKey: string | null;
  /** The type's defaults (PUT /v1/types/{type}); the request wins over them. */
  defaults: TypeConfig['defaults'];
  /** The org's defaults (PATCH /v1/org): after the type's, before the built-in ones. */
  orgDefaults: OrgDefaults;
}

export function draftTask(input: TaskCreate, ctx: DraftContext): Task {
  const runAt = input.runAt !== undefined ? Date.parse(input.runAt) : input.delayMs ? ctx.now + input.delayMs : null;
  return {
    id: ctx.id,
    orgId: ctx.orgId,
    projectId: ctx.project?.id ?? null,
    identifier: ctx.project?.identifier ?? null,
    listId: input.listId ?? null,
    type: input.type,
    title: input.title ?? input.type,
    description: input.description ?? null,
    input: (input.input ?? null) as Json,
    status: 'backlog',
    priority: input.priority ?? ctx.defaults.priority ?? 0,
    progress: null,
    progressMessage: null,
    result: null,
    error: null,
    attempt: 0,
    retryCount: 0,
    maxRetries: input.maxRetries ?? ctx.defaults.maxRetries ?? ctx.orgDefaults.maxRetries ?? DEFAULT_MAX_RETRIES,
    retryPolicy: { ...DEFAULT_RETRY_POLICY, ...ctx.defaults.retryPolicy, ...input.retryPolicy },
    leaseMs: input.leaseMs ?? ctx.defaults.leaseMs ?? null,
    timeoutMs: input.timeoutMs ?? ctx.defaults.timeoutMs ?? null,
    runAt,
    dependsOn: ctx.dependsOn,
    blockedBy: [],
    blockedReason: null,
    blockKind: null,
    onDependencyFailure: input.onDependencyFailure ?? 'cancel',
    assignee: input.assignee ?? null,
    createdBy: input.createdBy ?? ctx.keyName,
    pollCount: 0,
    requiresReview: input.requiresReview ?? false,
    metadata: (input.metadata ?? {}) as JsonObject,
    labels: input.labels ?? [],
    idempotencyKey: ctx.idempotencyKey,
    ttlSeconds: input.ttlSeconds ?? ctx.defaults.ttlSeconds ?? ctx.orgDefaults.ttlSeconds ?? DEFAULT_TTL_SECONDS,
    version: 1,
    createdAt: ctx.now,
    updatedAt: ctx.now,
    queuedAt: null,
    startedAt: null,
    completedAt: null,
    blockedAt: null,
    archivedAt: null,
    expiresAt: null,
    timeoutAt: null,
    claimedAt: null,
    lease: null,
  };
}
