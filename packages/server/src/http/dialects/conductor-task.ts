/**
 * Conductor's Task execution object (seed 002) from a native task, and the status map (SPEC §11).
 */
import { isTerminal, type TaskStatus } from '../../domain/status.js';
import type { Task } from '../../domain/task.js';
import type { TaskView } from '../../service/task-view.js';
import { asObject } from './dialect-kit.js';

export type ConductorStatus =
  'SCHEDULED' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | 'FAILED_WITH_TERMINAL_ERROR' | 'TIMED_OUT' | 'CANCELED';

/** Native → Conductor statuses (SPEC §11). */
export const CONDUCTOR_STATUS: Record<TaskStatus, ConductorStatus> = {
  backlog: 'SCHEDULED',
  blocked: 'SCHEDULED',
  queued: 'SCHEDULED',
  in_progress: 'IN_PROGRESS',
  needs_review: 'IN_PROGRESS',
  completed: 'COMPLETED',
  failed: 'FAILED',
  canceled: 'CANCELED',
};
/** A failed task is told apart by its last error: its code first, then whether it may be retried. */
const FAILED_BY_CODE: Record<string, ConductorStatus> = { TIMED_OUT: 'TIMED_OUT' };

export function conductorStatusOf(t: Pick<Task, 'status' | 'error'>): ConductorStatus {
  if (t.status !== 'failed' || t.error === null) return CONDUCTOR_STATUS[t.status];
  return FAILED_BY_CODE[t.error.code] ?? (t.error.retryable ? 'FAILED' : 'FAILED_WITH_TERMINAL_ERROR');
}

const secondsBetween = (from: number | null, to: number | null): number =>
  from === null || to === null || to <= from ? 0 : Math.ceil((to - from) / 1000);

/**
 * The Task execution object: every field of the seed's example, times in epoch ms (0 for "not yet").
 * A task without a list is its own one-task workflow: workflowInstanceId is its list, else its id.
 */
export function presentConductorTask({ task: t }: TaskView) {
  const scheduledTime = t.queuedAt ?? t.createdAt;
  return {
    taskType: t.type,
    status: conductorStatusOf(t),
    inputData: asObject(t.input) ?? {},
    referenceTaskName: t.title,
    retryCount: t.retryCount,
    seq: 0,
    pollCount: t.pollCount,
    taskDefName: t.type,
    scheduledTime,
    startTime: t.startedAt ?? 0,
    endTime: t.completedAt ?? 0,
    updateTime: t.updatedAt,
    startDelayInSeconds: 0,
    retried: t.retryCount > 0,
    executed: isTerminal(t.status),
    callbackFromWorker: true,
    responseTimeoutSeconds: Math.ceil((t.lease?.lengthMs ?? t.leaseMs ?? 0) / 1000),
    workflowInstanceId: t.listId ?? t.id,
    workflowType: t.listId ?? t.type,
    taskId: t.id,
    // Released with a delay (callbackAfterSeconds, a backoff): how long it was put off for.
    callbackAfterSeconds: t.status === 'queued' ? secondsBetween(t.queuedAt, t.runAt) : 0,
    outputData: asObject(t.result) ?? {},
    workflowTask: {
      name: t.type,
      taskReferenceName: t.title,
      inputParameters: {},
      type: 'SIMPLE',
      decisionCases: {},
      defaultCase: [],
      forkTasks: [],
      startDelay: 0,
      joinOn: [],
      optional: false,
      rateLimited: false,
      defaultExclusiveJoinTask: [],
      asyncComplete: false,
      loopOver: [],
      onStateChange: {},
      permissive: false,
    },
    rateLimitPerFrequency: 0,
    rateLimitFrequencyInSeconds: 0,
    workflowPriority: 0,
    iteration: 0,
    subworkflowChanged: false,
    firstStartTime: t.startedAt ?? 0,
    queueWaitTime: t.startedAt === null ? 0 : Math.max(0, t.startedAt - scheduledTime),
    loopOverTask: false,
    taskDefinition: null,
    ...(t.error === null ? {} : { reasonForIncompletion: t.error.message }),
    // The worker that last reported (Conductor records the reporter), else the one holding it.
    ...(t.lease === null && t.assignee === null ? {} : { workerId: t.assignee ?? t.lease?.workerId }),
  };
}
