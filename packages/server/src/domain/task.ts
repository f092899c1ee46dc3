/**
 * The task record (SPEC §2) as the domain sees it. Times are epoch milliseconds here; the HTTP
 * layer renders them as RFC 3339. No I/O and no clock of its own.
 */
import type { TaskStatus } from './status.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type RetryStrategy = 'fixed' | 'linear' | 'exponential';
export type Jitter = 'none' | 'full';

export interface RetryPolicy {
  strategy: RetryStrategy;
  delayMs: number;
  maxDelayMs: number;
  jitter: Jitter;
}

export interface TaskErrorInfo {
  code: string;
  message: string;
  details?: Json;
  retryable: boolean;
}

export interface Lease {
  id: string;
  workerId: string;
  expiresAt: number;
  /** The length asked for at claim; a heartbeat without extendMs renews the lease by this much. */
  lengthMs: number;
}

export interface Step {
  time: number;
  message: string;
  data?: Json;
}

export type DependencyFailurePolicy = 'cancel' | 'run';

/** Why a task is blocked: a person said so, or it waits for dependencies. */
export type BlockKind = 'manual' | 'dependencies';

export interface Task {
  id: string;
  orgId: string;
  projectId: string | null;
  identifier: string | null;
  listId: string | null;
  type: string;
  title: string;
  description: string | null;
  input: Json;
  status: TaskStatus;
  priority: number;
  progress: number | null;
  progressMessage: string | null;
  result: Json;
  error: TaskErrorInfo | null;
  /** Claims so far: +1 on each claim. */
  attempt: number;
  /** Failures that were retried (fail, lease expiry, timeout); compared with maxRetries. */
  retryCount: number;
  maxRetries: number;
  retryPolicy: RetryPolicy;
  leaseMs: number | null;
  timeoutMs: number | null;
  runAt: number | null;
  dependsOn: string[];
  blockedBy: string[];
  blockedReason: string | null;
  blockKind: BlockKind | null;
  onDependencyFailure: DependencyFailurePolicy;
  assignee: string | null;
  createdBy: string | null;
  pollCount: number;
  requiresReview: boolean;
  metadata: JsonObject;
  labels: string[];
  idempotencyKey: string | null;
  ttlSeconds: number;
  version: number;
  createdAt: number;
  updatedAt: number;
  queuedAt: number | null;
  startedAt: number | null;
  completedAt: number | null;
  blockedAt: number | null;
  archivedAt: number | null;
  expiresAt: number | null;
  /** Deadline of the current attempt (startedAt of the attempt + timeoutMs). */
  timeoutAt: number | null;
  /** When the latest attempt was claimed (null: never claimed); startedAt is the first claim's. */
  claimedAt: number | null;
  lease: Lease | null;
}

/** Limits on everything a client controls (SPEC §2, §8). */
export const LIMITS = {
  typeMaxLength: 128,
  titleMaxLength: 500,
  descriptionMaxLength: 20_000,
  priorityMin: -1000,
  priorityMax: 1000,
  metadataMaxKeys: 64,
  metadataKeyMaxLength: 128,
  labelsMax: 32,
  labelMaxLength: 128,
  payloadMaxBytes: 256 * 1024,
  bodyMaxBytes: 1024 * 1024,
  jsonMaxDepth: 32,
  batchMax: 1000,
  dependsOnMax: 100,
  stepsPerCallMax: 100,
  stepMessageMaxLength: 4000,
  progressMessageMaxLength: 2000,
  errorMessageMaxLength: 10_000,
  errorCodeMaxLength: 100,
  /** A reason given with an action (cancel, block, reject, …). */
  reasonMaxLength: 2000,
  /** A name a client gives: listId, assignee, createdBy, a worker id. */
  nameMaxLength: 200,
  /** A reference to a task or a project (id, identifier or key). */
  refMaxLength: 64,
  maxRetriesMax: 100,
  delayMaxMs: 365 * 24 * 3600 * 1000,
  leaseMinMs: 1000,
  leaseMaxMs: 24 * 3600 * 1000,
  ttlMaxSeconds: 10 * 365 * 24 * 3600,
  waitMaxSeconds: 60,
  listLimitMax: 200,
  listLimitDefault: 50,
} as const;

export const TYPE_PATTERN = '^[A-Za-z0-9._:/-]{1,128}$';

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  strategy: 'exponential',
  delayMs: 1000,
  maxDelayMs: 5 * 60 * 1000,
  jitter: 'full',
};
export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_TTL_SECONDS = 30 * 24 * 3600;
export const DEFAULT_LEASE_MS = 30_000;
