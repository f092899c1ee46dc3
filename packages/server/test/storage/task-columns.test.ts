/** The column mapping both adapters share: parameters of a row, and which columns a change touches. */
import { describe, expect, it } from 'vitest';
import { applyTransition } from '../../src/domain/transitions.js';
import { ALL_UPDATABLE, TASK_COLUMNS, changedColumns, columnValue, rowValues } from '../../src/storage/task-columns.js';
import { makeTask } from '../helpers/task-factory.js';

const ctx = { now: Date.UTC(2026, 0, 1, 0, 1), random: () => 0.5 };

describe('task columns', () => {
  it('rowValues gives every column in TASK_COLUMNS order, JSON as text, a null error as NULL', () => {
    const t = makeTask({ metadata: { a: 1 }, labels: ['x'], requiresReview: true });
    const values = rowValues(t);
    expect(values).toHaveLength(TASK_COLUMNS.length);
    TASK_COLUMNS.forEach((c, i) => expect(values[i]).toEqual(columnValue(c, t)));
    expect(values[TASK_COLUMNS.indexOf('metadata')]).toBe('{"a":1}');
    expect(values[TASK_COLUMNS.indexOf('error')]).toBeNull();
    expect(values[TASK_COLUMNS.indexOf('requires_review')]).toBe(true);
    expect(rowValues(t, (b) => (b ? 1 : 0))[TASK_COLUMNS.indexOf('requires_review')]).toBe(1);
  });

  it('changedColumns names exactly the columns a transition changed, one shared set per distinct set', () => {
    const queued = makeTask({ status: 'queued' });
    const claim = { name: 'claim', leaseId: 'l1', workerId: 'w1', leaseMs: 30_000 } as const;
    const a = applyTransition(queued, claim, ctx);
    const other = makeTask({ status: 'queued' });
    const b = applyTransition(other, claim, ctx);
    const set = changedColumns(queued, a);
    expect([...set.columns].sort()).toEqual(
      [
        'status',
        'attempt',
        'poll_count',
        'started_at',
        'assignee',
        'version',
        'updated_at',
        'lease_id',
        'lease_worker_id',
        'lease_expires_at',
        'lease_length_ms',
        'claimed_at',
      ].sort(),
    );
    expect(changedColumns(other, b)).toBe(set);
    const done = applyTransition(a, { name: 'complete', result: { ok: true } }, ctx);
    const completed = changedColumns(a, done);
    expect(completed).not.toBe(set);
    expect(completed.mask).not.toBe(set.mask);
    expect(completed.columns).toContain('result');
    expect(changedColumns(a, a).columns).toEqual([]);
    expect(ALL_UPDATABLE.columns).toEqual(TASK_COLUMNS.filter((c) => c !== 'org_id' && c !== 'id'));
  });
});
