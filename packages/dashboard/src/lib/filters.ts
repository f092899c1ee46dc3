/**
 * The task list's view in the page's address (`/?status=failed&type=email.send`), so that a link
 * shows a colleague the same thing. Names are those of GET /v1/tasks; `status` may repeat.
 */
import type { TaskListParams, TaskStatus } from '@tasklane/sdk';
import { STATUSES } from './wire.js';

export interface ListView {
  status: TaskStatus[];
  type?: string;
  label?: string;
  assignee?: string;
  listId?: string;
  projectId?: string;
  createdAfter?: string;
  createdBefore?: string;
  /** Words of the title (GET /v1/tasks `q`). */
  q?: string;
  archived: boolean;
  cursor?: string;
}

const TEXT_FIELDS = ['type', 'label', 'assignee', 'listId', 'projectId', 'createdAfter', 'createdBefore', 'q'] as const;
export type TextFilter = (typeof TEXT_FIELDS)[number];

export function parseView(search: string): ListView {
  const q = new URLSearchParams(search);
  const view: ListView = {
    status: q.getAll('status').filter((s): s is TaskStatus => (STATUSES as readonly string[]).includes(s)),
    archived: q.get('archived') === 'true',
  };
  for (const f of TEXT_FIELDS) {
    const v = q.get(f);
    if (v !== null && v !== '') view[f] = v;
  }
  const cursor = q.get('cursor');
  if (cursor !== null && cursor !== '') view.cursor = cursor;
  return view;
}

export function formatView(view: ListView): string {
  const q = new URLSearchParams();
  for (const s of view.status) q.append('status', s);
  for (const f of TEXT_FIELDS) {
    const v = view[f];
    if (v !== undefined && v !== '') q.set(f, v);
  }
  if (view.archived) q.set('archived', 'true');
  if (view.cursor !== undefined) q.set('cursor', view.cursor);
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** The view's filters as GET /v1/tasks parameters (no paging). */
export function toListParams(view: ListView): Omit<TaskListParams, 'limit' | 'cursor'> {
  return {
    ...(view.status.length > 0 ? { status: view.status } : {}),
    ...(view.type === undefined ? {} : { type: view.type }),
    ...(view.label === undefined ? {} : { label: view.label }),
    ...(view.assignee === undefined ? {} : { assignee: view.assignee }),
    ...(view.listId === undefined ? {} : { listId: view.listId }),
    ...(view.projectId === undefined ? {} : { projectId: view.projectId }),
    ...(view.createdAfter === undefined ? {} : { createdAfter: view.createdAfter }),
    ...(view.createdBefore === undefined ? {} : { createdBefore: view.createdBefore }),
    ...(view.q === undefined ? {} : { q: view.q }),
    ...(view.archived ? { archived: true } : {}),
  };
}

export function hasFilters(view: ListView): boolean {
  return Object.keys(toListParams(view)).length > 0;
}

/** The longest title search GET /v1/tasks takes (`q`, in characters). */
export const SEARCH_MAX = 200;

/** A task id (UUID) or a project identifier (`OPS-42`): what the search box opens directly. */
export function taskRefOf(text: string): string | null {
  const t = text.trim();
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t)) return t.toLowerCase();
  if (/^[A-Za-z][A-Za-z0-9]{1,9}-\d{1,12}$/.test(t)) return t.toUpperCase();
  return null;
}
