/**
 * QuantCDN's `PUT …/ai/tasks/{taskId}` as native service calls. Quant sets a status; Tasklane moves
 * through events. Which native events lead towards each Quant status is data (`TOWARDS`); which of them
 * applies from the task's current status is the domain's transition table (`canTransition`), and the
 * move itself is the service's. A Quant status the table cannot reach answers 409 INVALID_TRANSITION.
 */
import { TasklaneError } from '../../domain/errors.js';
import type { Task } from '../../domain/task.js';
import { canTransition, type TransitionName } from '../../domain/transitions.js';
import { hasScope, type Principal } from '../../service/principal.js';
import type { AppServices } from '../../service/services.js';
import { currentLease } from './dialect-kit.js';
import type { QuantStatus } from './quant-task.js';

/** The native events that move a task towards a Quant status, tried in this order. */
const TOWARDS: Record<QuantStatus, readonly TransitionName[]> = {
  pending: ['start', 'unblock', 'release', 'reject', 'retry'],
  in_progress: ['claim'],
  completed: ['complete', 'approve'],
  failed: ['fail', 'reject'],
  cancelled: ['cancel'],
  blocked: ['block'],
};

/** Events a worker reports (scope tasks:work); the others are a client's (tasks:write). */
const WORKER_EVENTS: ReadonlySet<TransitionName> = new Set(['claim', 'release', 'complete', 'fail', 'heartbeat']);

/** A claim through Quant holds the task this long unless the task or its type says otherwise. */
export const QUANT_LEASE_MS = 3600_000;

export interface QuantChange {
  status?: QuantStatus | undefined;
  assignedAgentId?: string | undefined;
  result?: unknown;
  error?: string | undefined;
  blockedReason?: string | undefined;
  progress?: number | undefined;
  progressMessage?: string | undefined;
}

export class QuantUpdate {
  constructor(
    private readonly services: AppServices,
    private readonly caller: Principal,
    private readonly statusOf: (t: Task) => QuantStatus,
  ) {}

  /** Move the task to `target` (no-op when it is there), one native event at a time. */
  async moveTo(task: Task, target: QuantStatus, change: QuantChange): Promise<Task> {
    if (this.statusOf(task) === target) {
      // Taking a task another agent holds is not a no-op: that agent's lease stands (409).
      if (target === 'in_progress') {
        await currentLease(this.services.tasks, task.orgId, task.id, change.assignedAgentId);
      }
      return task;
    }
    if (target === 'in_progress' && !canTransition(task.status, 'claim')) {
      // Not claimable yet (backlog, blocked, released, failed): made pending first, then claimed; the
      // claim's scope is checked before either step.
      this.need('claim');
      task = await this.moveTo(task, 'pending', change);
    }
    const event = TOWARDS[target].find((e) => canTransition(task.status, e));
    if (event === undefined) {
      throw new TasklaneError(
        'INVALID_TRANSITION',
        `A ${this.statusOf(task)} task (${task.status}) cannot become ${target}.`,
      );
    }
    return this.apply(task, event, target, change);
  }

  /** Progress and its message: a heartbeat of the current lease, so only on a task in progress. */
  async report(task: Task, change: QuantChange): Promise<Task> {
    if (change.progress === undefined && change.progressMessage === undefined) return task;
    this.need('heartbeat');
    const { leaseId } = await currentLease(this.services.tasks, task.orgId, task.id, change.assignedAgentId);
    return (
      await this.services.workers.heartbeat(task.orgId, task.id, {
        leaseId,
        progress: change.progress,
        progressMessage: change.progressMessage,
      })
    ).task;
  }

  private async apply(task: Task, event: TransitionName, target: QuantStatus, change: QuantChange): Promise<Task> {
    this.need(event);
    const { orgId, id } = task;
    const { tasks, workers } = this.services;
    const leased = () => currentLease(tasks, orgId, id, change.assignedAgentId);
    switch (event) {
      case 'claim': {
        const workerId = change.assignedAgentId ?? task.assignee ?? this.caller.keyName;
        return (await workers.claimOne(orgId, id, { workerId, leaseMs: await this.leaseMsOf(task) })).task;
      }
      case 'release':
        return (await workers.release(orgId, id, { leaseId: (await leased()).leaseId })).task;
      case 'complete':
        return (await workers.complete(orgId, id, { leaseId: (await leased()).leaseId, result: change.result })).task;
      case 'fail':
        // The agent's word is final: failed, not retried (PUT `pending` retries it).
        return (
          await workers.fail(orgId, id, {
            leaseId: (await leased()).leaseId,
            error: { message: change.error ?? 'The agent reported a failure.' },
            retryable: false,
          })
        ).task;
      case 'reject':
        return target === 'pending'
          ? (await tasks.action(orgId, id, 'reject', { requeue: true })).task
          : (await tasks.action(orgId, id, 'reject', change.error === undefined ? {} : { reason: change.error })).task;
      case 'block':
        return (
          await tasks.action(
            orgId,
            id,
            'block',
            change.blockedReason === undefined ? {} : { reason: change.blockedReason },
          )
        ).task;
      case 'start':
      case 'unblock':
      case 'retry':
      case 'cancel':
      case 'approve':
        return (await tasks.action(orgId, id, event, {})).task;
      default:
        throw new TasklaneError('INVALID_TRANSITION', `Quant cannot ask for '${event}'.`);
    }
  }

  private need(event: TransitionName): void {
    const scope = WORKER_EVENTS.has(event) ? 'tasks:work' : 'tasks:write';
    if (!hasScope(this.caller, scope)) {
      throw new TasklaneError('FORBIDDEN', `This change (${event}) needs the '${scope}' scope.`);
    }
  }

  private async leaseMsOf(task: Task): Promise<number> {
    if (task.leaseMs !== null) return task.leaseMs;
    const settings = await this.services.types.list(task.orgId);
    return settings.find((s) => s.type === task.type)?.defaults.leaseMs ?? QUANT_LEASE_MS;
  }
}
