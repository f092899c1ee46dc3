/** The list's address (filters ↔ query string), the search box's task references, and events applied to rows. */
import type { Task } from '@tasklane/sdk';
import { describe, expect, it } from 'vitest';
import { formatView, parseView, taskRefOf, toListParams } from '../src/lib/filters.js';
import { applyEvent, applyToStats } from '../src/lib/live-tasks.js';

describe('the list view in the address', () => {
  it('round-trips every filter of GET /v1/tasks, status repeated, and the cursor', () => {
    const search =
      '?status=queued&status=failed&type=email.send&label=billing&assignee=w1&listId=l1&projectId=OPS' +
      '&createdAfter=2026-01-01T00%3A00%3A00.000Z&createdBefore=2026-02-01T00%3A00%3A00.000Z&q=50%25+off&archived=true&cursor=abc';
    const view = parseView(search);
    expect(view).toEqual({
      status: ['queued', 'failed'],
      type: 'email.send',
      label: 'billing',
      assignee: 'w1',
      listId: 'l1',
      projectId: 'OPS',
      createdAfter: '2026-01-01T00:00:00.000Z',
      createdBefore: '2026-02-01T00:00:00.000Z',
      q: '50% off',
      archived: true,
      cursor: 'abc',
    });
    expect(formatView(view)).toBe(search);
    expect(toListParams(view)).not.toHaveProperty('cursor');
    expect(toListParams(view)).toMatchObject({ q: '50% off' });
  });

  it('drops what is not a filter: unknown statuses, empty values', () => {
    expect(parseView('?status=done&status=queued&type=&archived=yes')).toEqual({ status: ['queued'], archived: false });
    expect(formatView(parseView(''))).toBe('');
  });
});

describe('the search box', () => {
  it('opens ids and identifiers, and nothing else', () => {
    expect(taskRefOf(' 0190C2A4-0000-7000-8000-000000000001 ')).toBe('0190c2a4-0000-7000-8000-000000000001');
    expect(taskRefOf('ops-42')).toBe('OPS-42');
    expect(taskRefOf('send invoices')).toBeNull();
    expect(taskRefOf('<img src=x onerror=alert(1)>')).toBeNull();
  });
});

describe('events applied to rows', () => {
  const task = {
    id: 't1',
    version: 3,
    status: 'in_progress',
    progress: 0.1,
    progressMessage: null,
    steps: [],
  } as unknown as Task;
  const at = '2026-01-01T00:00:00.000Z';

  it('applies a newer event, ignores one the row already has', () => {
    const moved = applyEvent(task, {
      id: 1,
      type: 'task.progress',
      taskId: 't1',
      time: at,
      data: { progress: 0.5, progressMessage: 'half', version: 4 },
    });
    expect(moved).toMatchObject({ progress: 0.5, progressMessage: 'half', version: 4, updatedAt: at });
    const stale = applyEvent(moved, {
      id: 2,
      type: 'task.status_changed',
      taskId: 't1',
      time: at,
      data: { from: 'queued', to: 'in_progress', cause: 'claim', version: 4 },
    });
    expect(stale).toBe(moved);
    const done = applyEvent(moved, {
      id: 3,
      type: 'task.status_changed',
      taskId: 't1',
      time: at,
      data: { from: 'in_progress', to: 'completed', cause: 'complete', version: 5 },
    });
    expect(done.status).toBe('completed');
  });

  it('moves the status counts', () => {
    const stats = {
      total: 2,
      byStatus: { queued: 1, in_progress: 1 },
      byType: {},
      oldestQueuedAgeMs: null,
      claimsPerMinute: 0,
    } as never;
    const next = applyToStats(stats, {
      id: 1,
      type: 'task.status_changed',
      taskId: 't1',
      time: at,
      data: { from: 'queued', to: 'in_progress', cause: 'claim', version: 2 },
    });
    expect(next?.byStatus).toMatchObject({ queued: 0, in_progress: 2 });
    expect(
      applyToStats(stats, {
        id: 2,
        type: 'task.created',
        taskId: 't2',
        time: at,
        data: { status: 'queued', version: 1 },
      })?.total,
    ).toBe(3);
  });
});
