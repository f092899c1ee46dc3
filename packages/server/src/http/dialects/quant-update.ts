/**
 * QuantCDN's `PUT …/ai/tasks/{taskId}` as one plan of native changes, applied by the service in ONE
 * unit of work (TaskService.update): the status change, then the fields, then progress. If any part is
 * refused, nothing of the PUT is applied.
 *
 * Quant sets a status; Tasklane moves through events. Which native events lead towards each Quant
 * status is data (`TOWARDS`); which of them applies from the task's current status is the domain's
 * transition table (`canTransition`), read on the task as the unit locked it. A Quant status the table
 * cannot reach answers 409 INVALID_TRANSITION.
 */
import { TasklaneError } from '../../domain/errors.js';
import type { JsonObject, Task } from '../../domain/task.js';
import { canTransition, type TransitionName } from '../../domain/transitions.js';
import { UUID_PATTERN } from '../../service/ids.js';
import { hasScope, type Principal } from '../../service/principal.js';
import type { ChangePlan, TaskChange } from '../../service/task-update.js';
import type { ReportLease } from '../../service/worker-service.js';
import { quantStatusOf, type QuantStatus } from './quant-task.js';

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

/** The fields of a PUT (the route's schema has checked their types). */
export interface QuantUpdateBody {
  title?: string | undefined;
  description?: string | undefined;
  taskListId?: string | null | undefined;
  status?: QuantStatus | undefined;
  assignedAgentId?: string | undefined;
  dependsOn?: string[] | undefined;
  metadata?: Record<string, unknown> | undefined;
  progress?: number | undefined;
  progressMessage?: string | undefined;
  result?: unknown;
  error?: string | undefined;
  retryCount?: number | undefined;
  maxRetries?: number | undefined;
  blockedReason?: string | undefined;
  blockedByTaskIds?: string[] | undefined;
}

/** Quant writes UUIDs in upper case; Tasklane's are lower case. */
export const normalizeIds = (ids: readonly string[]): string[] =>
  ids.map((id) => (UUID_PATTERN.test(id) ? id.toLowerCase() : id));

/** The plan of a PUT by `caller`, made on the task as the service's unit locked it. */
export function planQuantUpdate(caller: Principal, b: QuantUpdateBody): ChangePlan {
  return (task) => new QuantPlan(caller, b, task).changes();
}

class QuantPlan {
  /** Reports name the agent when the PUT does: it must be the one holding the task. */
  private readonly lease: ReportLease;

  constructor(
    private readonly caller: Principal,
    private readonly b: QuantUpdateBody,
    private readonly task: Readonly<Task>,
  ) {
    this.lease = { holder: { workerId: b.assignedAgentId, anyWorker: false } };
  }

  changes(): TaskChange[] {
    const { b, task } = this;
    refuseFixedChanges(task, b);
    const target = b.status;
    needsStatus('result', b.result !== undefined && target !== 'completed', 'completed');
    needsStatus('error', b.error !== undefined && target !== 'failed', 'failed');
    needsStatus(
      'blockedReason',
      b.blockedReason !== undefined && target !== 'blocked' && b.blockedReason !== task.blockedReason,
      'blocked',
    );
    const claims = target === 'in_progress' && quantStatusOf(task) !== 'in_progress';
    const reassign = b.assignedAgentId !== undefined && !claims && b.assignedAgentId !== task.assignee;
    const edits = b.title !== undefined || b.description !== undefined || b.metadata !== undefined || reassign;
    // Checked before anything changes, so that a PUT the key may not make in full changes nothing.
    if (edits && !hasScope(this.caller, 'tasks:write')) {
      throw new TasklaneError(
        'FORBIDDEN',
        "Changing title, description, metadata or the agent needs the 'tasks:write' scope.",
      );
    }
    const out: TaskChange[] = target === undefined ? [] : this.moveTo(target);
    if (edits) {
      out.push({
        kind: 'patch',
        patch: {
          ...(b.title === undefined ? {} : { title: b.title }),
          ...(b.description === undefined ? {} : { description: b.description }),
          ...(b.metadata === undefined ? {} : { metadata: b.metadata as JsonObject }),
          ...(reassign ? { assignee: b.assignedAgentId } : {}),
        },
        // Quant replaces metadata; a native patch merges.
        replaceMetadata: true,
      });
    }
    // Progress and its message: a heartbeat of the current lease, so only on a task in progress.
    if (b.progress !== undefined || b.progressMessage !== undefined) {
      this.need('heartbeat');
      out.push({
        kind: 'report',
        report: { action: 'heartbeat', progress: b.progress, progressMessage: b.progressMessage },
        lease: this.lease,
      });
    }
    return out;
  }

  /** The changes that move the task to `target` (none when it is there). */
  private moveTo(target: QuantStatus): TaskChange[] {
    const task = this.task;
    if (quantStatusOf(task) === target) {
      // Taking a task another agent holds is not a no-op: that agent's lease stands (409).
      const agent = this.b.assignedAgentId;
      if (target === 'in_progress' && agent !== undefined && task.lease !== null && task.lease.workerId !== agent) {
        throw new TasklaneError('LEASE_LOST', `Worker '${task.lease.workerId}' holds this task, not '${agent}'.`);
      }
      return [];
    }
    if (target === 'in_progress') {
      // Claimable now, or first made pending (backlog, blocked, released, failed): the claim's scope is
      // checked before either; a task that does not become claimable refuses the claim (409).
      this.need('claim');
      const before = canTransition(task.status, 'claim') ? [] : [this.change(this.eventTowards('pending'), 'pending')];
      return [...before, this.change('claim', target)];
    }
    return [this.change(this.eventTowards(target), target)];
  }

  private eventTowards(target: QuantStatus): TransitionName {
    const event = TOWARDS[target].find((e) => canTransition(this.task.status, e));
    if (event === undefined) {
      throw new TasklaneError(
        'INVALID_TRANSITION',
        `A ${quantStatusOf(this.task)} task (${this.task.status}) cannot become ${target}.`,
      );
    }
    return event;
  }

  private change(event: TransitionName, target: QuantStatus): TaskChange {
    this.need(event);
    const { b, task, lease } = this;
    switch (event) {
      case 'claim':
        return {
          kind: 'claim',
          workerId: b.assignedAgentId ?? task.assignee ?? this.caller.keyName,
          defaultLeaseMs: QUANT_LEASE_MS,
        };
      case 'release':
        return { kind: 'report', report: { action: 'release' }, lease };
      case 'complete':
        return { kind: 'report', report: { action: 'complete', result: b.result }, lease };
      case 'fail':
        // The agent's word is final: failed, not retried (PUT `pending` retries it).
        return {
          kind: 'report',
          report: { action: 'fail', error: { message: b.error ?? 'The agent reported a failure.' }, retryable: false },
          lease,
        };
      case 'reject':
        return target === 'pending'
          ? { kind: 'action', action: 'reject', requeue: true }
          : { kind: 'action', action: 'reject', ...(b.error === undefined ? {} : { reason: b.error }) };
      case 'block':
        return {
          kind: 'action',
          action: 'block',
          ...(b.blockedReason === undefined ? {} : { reason: b.blockedReason }),
        };
      case 'start':
      case 'unblock':
      case 'retry':
      case 'cancel':
      case 'approve':
        return { kind: 'action', action: event };
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
}

function needsStatus(field: string, missing: boolean, status: QuantStatus): void {
  if (missing) {
    throw new TasklaneError('VALIDATION_FAILED', `${field} is set with status ${status}.`, {
      errors: [{ path: `/${field}`, message: `needs status ${status}` }],
    });
  }
}

/** Fields Tasklane fixes at creation: a PUT may repeat their value, not change it. */
function refuseFixedChanges(t: Readonly<Task>, b: QuantUpdateBody): void {
  const sameSet = (x: readonly string[], y: readonly string[]) =>
    x.length === y.length && x.every((v) => y.includes(v));
  const fixed: Array<[string, boolean]> = [
    ['taskListId', b.taskListId !== undefined && b.taskListId !== t.listId],
    ['dependsOn', b.dependsOn !== undefined && !sameSet(normalizeIds(b.dependsOn), t.dependsOn)],
    ['blockedByTaskIds', b.blockedByTaskIds !== undefined && !sameSet(normalizeIds(b.blockedByTaskIds), t.blockedBy)],
    ['retryCount', b.retryCount !== undefined && b.retryCount !== t.retryCount],
    ['maxRetries', b.maxRetries !== undefined && b.maxRetries !== t.maxRetries],
  ];
  const changed = fixed.filter(([, differs]) => differs).map(([name]) => name);
  if (changed.length > 0) {
    throw new TasklaneError(
      'VALIDATION_FAILED',
      `Tasklane fixes ${changed.join(', ')} at creation; a PUT cannot change them.`,
      { errors: changed.map((name) => ({ path: `/${name}`, message: 'cannot change after creation' })) },
    );
  }
}
