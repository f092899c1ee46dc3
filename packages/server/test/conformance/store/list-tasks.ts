/** listTasks: newest first, every filter, and stable paging by afterId. */
import { describe, expect, it } from 'vitest';
import type { Task } from '../../../src/domain/task.js';
import type { TaskFilter } from '../../../src/storage/task-store.js';
import { ORG_B, T0 } from '../../helpers/task-factory.js';
import { ids, type StoreTopic } from './fixture.js';

export const listTasks: StoreTopic = (fx) => {
  const { task, insert, list } = fx;

  describe('listTasks', () => {
    it('newest first (id descending), whatever the insertion order', async () => {
      const ts = [task(), task(), task(), task(), task()];
      const [t1, t2, t3, t4, t5] = ts as [Task, Task, Task, Task, Task];
      await insert(t3, t1, t5);
      await insert(t2, t4);
      const page = await list({});
      expect(ids(page.items)).toEqual(ids([t5, t4, t3, t2, t1]));
      expect(page.items[0]).toEqual(t5);
      expect(page.hasMore).toBe(false);
      expect(page.lastId).toBeNull();
    });

    it('every filter, alone and combined', async () => {
      const t1 = task({
        status: 'queued',
        type: 'email.send',
        listId: 'L1',
        projectId: 'P1',
        assignee: 'w1',
        labels: ['red', 'blue'],
        createdAt: T0 + 1_000,
      });
      const t2 = task({
        status: 'in_progress',
        type: 'pdf.render',
        listId: 'L2',
        assignee: 'w2',
        labels: ['blue', '50%_off'],
        createdAt: T0 + 2_000,
      });
      const t3 = task({
        status: 'completed',
        type: 'email.send',
        listId: 'L1',
        projectId: 'P2',
        createdAt: T0 + 3_000,
      });
      const t4 = task({
        status: 'failed',
        type: 'pdf.render',
        projectId: 'P1',
        assignee: 'w1',
        labels: ['red'],
        createdAt: T0 + 4_000,
      });
      const t5 = task({ status: 'queued', labels: ['red'], archivedAt: T0 + 5_500, createdAt: T0 + 5_000 });
      await insert(t1, t2, t3, t4, t5);

      const cases: Array<[TaskFilter, Task[]]> = [
        [{}, [t4, t3, t2, t1]],
        [{ archived: false }, [t4, t3, t2, t1]],
        // archived: true lists archived tasks along with the others (SPEC §7: hidden unless asked for).
        [{ archived: true }, [t5, t4, t3, t2, t1]],
        [{ archived: true, label: 'red' }, [t5, t4, t1]],
        [{ archived: true, status: ['failed'] }, [t4]],
        [{ status: ['queued'] }, [t1]],
        [{ status: ['queued', 'failed'] }, [t4, t1]],
        [{ status: ['needs_review'] }, []],
        [{ type: 'email.send' }, [t3, t1]],
        [{ listId: 'L1' }, [t3, t1]],
        [{ projectId: 'P1' }, [t4, t1]],
        [{ assignee: 'w1' }, [t4, t1]],
        [{ label: 'red' }, [t4, t1]],
        [{ label: 'blue' }, [t2, t1]],
        [{ label: '50%_off' }, [t2]],
        [{ label: '50%' }, []],
        [{ label: 're' }, []],
        [{ createdAfter: T0 + 2_500 }, [t4, t3]],
        [{ createdBefore: T0 + 2_500 }, [t2, t1]],
        [{ createdAfter: T0 + 1_500, createdBefore: T0 + 3_500 }, [t3, t2]],
        [{ type: 'email.send', label: 'red' }, [t1]],
        [{ status: ['queued', 'in_progress', 'failed'], assignee: 'w1', projectId: 'P1' }, [t4, t1]],
      ];
      for (const [filter, expected] of cases) {
        const page = await list(filter);
        expect({ filter, ids: ids(page.items) }).toEqual({ filter, ids: ids(expected) });
        expect(page.hasMore).toBe(false);
      }
    });

    it('limit and afterId page through with hasMore and lastId', async () => {
      const ts = [task(), task(), task(), task(), task()];
      await insert(...ts);
      const newestFirst = ids(ts).reverse();

      const p1 = await list({}, 2);
      expect(ids(p1.items)).toEqual(newestFirst.slice(0, 2));
      expect(p1).toMatchObject({ hasMore: true, lastId: newestFirst[1] });
      const p2 = await list({}, 2, p1.lastId);
      expect(ids(p2.items)).toEqual(newestFirst.slice(2, 4));
      expect(p2).toMatchObject({ hasMore: true, lastId: newestFirst[3] });
      const p3 = await list({}, 2, p2.lastId);
      expect(ids(p3.items)).toEqual(newestFirst.slice(4));
      expect(p3).toMatchObject({ hasMore: false, lastId: null });

      // Exactly `limit` left: no more after them.
      const exact = await list({}, 4, newestFirst[0] ?? null);
      expect(ids(exact.items)).toEqual(newestFirst.slice(1));
      expect(exact).toMatchObject({ hasMore: false, lastId: null });
    });

    it('pages through a filtered list', async () => {
      const ts = Array.from({ length: 7 }, (_, i) => task({ status: i % 2 === 0 ? 'queued' : 'failed' }));
      await insert(...ts);
      const queued = ids(ts.filter((t) => t.status === 'queued')).reverse();
      const p1 = await list({ status: ['queued'] }, 3);
      expect(ids(p1.items)).toEqual(queued.slice(0, 3));
      expect(p1.hasMore).toBe(true);
      const p2 = await list({ status: ['queued'] }, 3, p1.lastId);
      expect(ids(p2.items)).toEqual(queued.slice(3));
      expect(p2.hasMore).toBe(false);
    });

    it('titleContains: a substring of the title, ASCII case ignored, wildcards and the escape taken literally', async () => {
      const titles = [
        'Send the Weekly Report',
        'weekly digest',
        '50% off_sale',
        '500 off sale',
        'C:\\temp\\report',
        'Überweisung prüfen',
        'résumé review',
      ];
      const ts = titles.map((title) => task({ title }));
      await insert(
        ...ts,
        task({ title: 'weekly, archived', archivedAt: T0 + 1 }),
        task({ orgId: ORG_B, title: 'weekly' }),
      );
      const [report, digest, percent, plain, path, german, french] = ts as [Task, Task, Task, Task, Task, Task, Task];
      const cases: Array<[string, Task[]]> = [
        ['weekly', [digest, report]],
        ['WEEKLY', [digest, report]],
        ['wEeKlY rEpOrT', [report]],
        ['report', [path, report]],
        ['%', [percent]],
        ['50%', [percent]],
        ['_', [percent]],
        ['f_s', [percent]],
        ['0 off', [plain]],
        ['\\', [path]],
        ['\\temp\\', [path]],
        ['\\%', []],
        ['Über', [german]],
        ['prüf', [german]],
        ['résumé', [french]],
        ['Send the Weekly Report', [report]],
        ['Send the Weekly Report!', []],
        [' ', [french, german, plain, percent, digest, report]],
        ['x'.repeat(200), []],
      ];
      for (const [text, expected] of cases) {
        const page = await list({ titleContains: text });
        expect({ text, ids: ids(page.items) }).toEqual({ text, ids: ids(expected) });
      }
      // Archived tasks only when asked for, as with every filter; never another org's.
      expect((await list({ titleContains: 'weekly', archived: true })).items).toHaveLength(3);
    });

    it('titleContains combines with the other filters and pages with afterId', async () => {
      const ts = Array.from({ length: 9 }, (_, i) =>
        task({ title: i % 3 === 0 ? `Deploy #${i}` : `Build #${i}`, status: i % 2 === 0 ? 'queued' : 'failed' }),
      );
      await insert(...ts);
      const deploys = ids(ts.filter((t) => t.title.startsWith('Deploy'))).reverse();
      const p1 = await list({ titleContains: 'deploy' }, 2);
      expect(ids(p1.items)).toEqual(deploys.slice(0, 2));
      expect(p1).toMatchObject({ hasMore: true, lastId: deploys[1] });
      const p2 = await list({ titleContains: 'deploy' }, 2, p1.lastId);
      expect(ids(p2.items)).toEqual(deploys.slice(2));
      expect(p2).toMatchObject({ hasMore: false, lastId: null });
      const queuedDeploys = ts.filter((t) => t.title.startsWith('Deploy') && t.status === 'queued');
      expect(ids((await list({ titleContains: 'DEPLOY', status: ['queued'] })).items)).toEqual(
        ids(queuedDeploys).reverse(),
      );
    });

    it('is stable: tasks inserted between pages do not change the next page', async () => {
      const ts = [task(), task(), task(), task(), task()];
      await insert(...ts);
      const newestFirst = ids(ts).reverse();
      const p1 = await list({}, 2);
      await insert(task(), task(), task());
      const p2 = await list({}, 2, p1.lastId);
      expect(ids(p2.items)).toEqual(newestFirst.slice(2, 4));
      await insert(task());
      const p3 = await list({}, 2, p2.lastId);
      expect(ids(p3.items)).toEqual(newestFirst.slice(4));
      expect(p3.hasMore).toBe(false);
    });
  });
};
