/** The filters of `GET /v1/tasks` (and of a bulk call's `filter`) as the store's TaskFilter. */
import type { TaskFilterParams } from '@tasklane/sdk/schemas';
import type { TaskFilter } from '../storage/task-store.js';

/** RFC 3339 times become epoch ms; `q` is the title search; archived tasks stay hidden unless asked for. */
export function toTaskFilter(q: TaskFilterParams): TaskFilter {
  return {
    ...(q.status === undefined ? {} : { status: q.status }),
    ...(q.type === undefined ? {} : { type: q.type }),
    ...(q.listId === undefined ? {} : { listId: q.listId }),
    ...(q.projectId === undefined ? {} : { projectId: q.projectId }),
    ...(q.assignee === undefined ? {} : { assignee: q.assignee }),
    ...(q.label === undefined ? {} : { label: q.label }),
    ...(q.createdAfter === undefined ? {} : { createdAfter: Date.parse(q.createdAfter) }),
    ...(q.createdBefore === undefined ? {} : { createdBefore: Date.parse(q.createdBefore) }),
    ...(q.q === undefined ? {} : { titleContains: q.q }),
    archived: q.archived ?? false,
  };
}
