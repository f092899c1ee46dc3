/**
 * One action on many tasks (`POST /v1/tasks/bulk`): the tasks named by id, or the newest that match
 * the list's filters, at most BULK_MAX per call. Each task goes through `TaskService.action`, so the
 * same transition rules and the same events apply as to the single action, and each is its own unit
 * of work: one task's refusal (a 409, a 404) is that task's result and does not stop the others.
 */
import { BULK_MAX, type TaskAction } from '@tasklane/sdk/schemas';
import { TasklaneError } from '../domain/errors.js';
import type { TaskFilter, TaskStore } from '../storage/task-store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { UUID_PATTERN } from './ids.js';
import { checkReason } from './task-rules.js';
import type { TaskService } from './task-service.js';
import type { TaskView } from './task-view.js';

export type BulkTarget = { ids: readonly string[] } | { filter: TaskFilter; limit?: number; cursor?: string };

export interface BulkRequest {
  action: TaskAction;
  target: BulkTarget;
  reason?: string;
  requeue?: boolean;
  /** Count what matches and act on nothing. */
  dryRun?: boolean;
}

export type BulkItem =
  { taskId: string; ok: true; view: TaskView } | { taskId: string; ok: false; error: TasklaneError };

export interface BulkOutcome {
  results: BulkItem[];
  /** Tasks named (ids), or matched by the filter within the limit. */
  matched: number;
  /** More tasks match the filter than this call took. */
  hasMore: boolean;
  /** Where the next call goes on (filter only). */
  nextCursor: string | null;
}

export class BulkActionsService {
  constructor(
    private readonly store: TaskStore,
    private readonly tasks: TaskService,
  ) {}

  async run(orgId: string, req: BulkRequest): Promise<BulkOutcome> {
    // The reason is the same for every task: one that breaks the content rules refuses the call,
    // not each task in turn.
    checkReason(req.reason);
    const { refs, hasMore, nextCursor } =
      'ids' in req.target
        ? { refs: [...req.target.ids], hasMore: false, nextCursor: null }
        : await this.match(orgId, req.target);
    if (refs.length > BULK_MAX) {
      throw new TasklaneError('VALIDATION_FAILED', `At most ${BULK_MAX} tasks per bulk call.`, {
        errors: [{ path: '/ids', message: `must have at most ${BULK_MAX} items` }],
      });
    }
    const body = {
      ...(req.reason === undefined ? {} : { reason: req.reason }),
      ...(req.requeue === undefined ? {} : { requeue: req.requeue }),
    };
    const results: BulkItem[] = [];
    if (req.dryRun !== true) {
      // One after another: each is a short unit of work, and a bulk call must not crowd out the
      // workers' own writes on the store.
      for (const ref of refs) {
        try {
          results.push({ taskId: ref, ok: true, view: await this.tasks.action(orgId, ref, req.action, body) });
        } catch (err) {
          if (!(err instanceof TasklaneError)) throw err;
          results.push({ taskId: ref, ok: false, error: err });
        }
      }
    }
    return { results, matched: refs.length, hasMore, nextCursor };
  }

  /** The ids of the newest tasks that match, from one committed snapshot. */
  private async match(
    orgId: string,
    target: { filter: TaskFilter; limit?: number; cursor?: string },
  ): Promise<{ refs: string[]; hasMore: boolean; nextCursor: string | null }> {
    const limit = Math.min(target.limit ?? BULK_MAX, BULK_MAX);
    const afterId = target.cursor === undefined ? null : decodeCursor(target.cursor);
    return this.store.read(async (tx) => {
      let filter = target.filter;
      // A project may be named by its key (OPS), as in the list.
      if (filter.projectId !== undefined && !UUID_PATTERN.test(filter.projectId)) {
        const project = await tx.getProjectByKey(orgId, filter.projectId);
        if (project === null) return { refs: [], hasMore: false, nextCursor: null };
        filter = { ...filter, projectId: project.id };
      }
      const page = await tx.listTasks(orgId, filter, limit, afterId);
      return {
        refs: page.items.map((t) => t.id),
        hasMore: page.hasMore,
        nextCursor: page.lastId === null ? null : encodeCursor(page.lastId),
      };
    });
  }
}
