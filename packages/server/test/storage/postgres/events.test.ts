/**
 * Events where only a shared server shows them: ids visible in id order while many units on two
 * nodes commit at once, and the commit hook staying on the node that committed.
 * Runs when TASKLANE_TEST_PG_URL names a server; skipped, loudly, otherwise.
 */
import { describe, expect, it } from 'vitest';
import type { NewEvent, TaskStore } from '../../../src/storage/task-store.js';
import { insertOrgs, pgSuite } from '../../helpers/pg.js';
import { ORG_A, T0, eventOf, idSequence, makeTask } from '../../helpers/task-factory.js';

/** Resolves when `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms = 5_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

pgSuite('events', (fresh) => {
  describe('postgres: events across units and nodes', () => {
    it('12 writers on two nodes, a reader resuming after the highest id it has seen: it collects exactly 1..N', async () => {
      const a = await fresh();
      const b = await fresh({ schema: a.schema, migrate: false });
      try {
        await insertOrgs(a.store);
        const t = makeTask({ id: idSequence()(), createdAt: T0 });
        await a.store.write((tx) => tx.insertTasks([t]));
        const WRITERS = 12;
        const UNITS = 15;
        let committed = 0;
        let writing = WRITERS;
        const writer = async (w: number) => {
          const store: TaskStore = w % 2 === 0 ? a.store : b.store;
          for (let u = 0; u < UNITS; u++) {
            const evs = Array.from({ length: 1 + ((w + u) % 3) }, (_, k) => eventOf(t, 'task.updated', { w, u, k }));
            await store.write(async (tx) => {
              await tx.appendEvents(evs);
              // Every third unit numbers its events early (listing them writes them, taking the
              // org's counter) and has a round trip more before its COMMIT: the window in which a
              // unit numbered after it could commit first, were the counter not held until then.
              if (u % 3 === w % 3) {
                await tx.listEvents(ORG_A, 0, 1);
                await tx.getTask(ORG_A, t.id);
              }
            });
            committed += evs.length;
          }
          writing--;
        };
        const seen: number[] = [];
        let after = 0;
        const poll = async (): Promise<number> => {
          const page = await a.store.read((tx) => tx.listEvents(ORG_A, after, 50));
          for (const e of page) seen.push(e.id);
          after = page.at(-1)?.id ?? after;
          return page.length;
        };
        const reader = async () => {
          let polls = 0;
          while (writing > 0) polls += (await poll()) > 0 ? 1 : 0;
          // Every writer is done: what is left to read has committed.
          while ((await poll()) > 0);
          return polls;
        };
        const [pagesWhileWriting] = await Promise.all([
          reader(),
          ...Array.from({ length: WRITERS }, (_, w) => writer(w)),
        ]);
        // The reader did read while the writers wrote, or the test proves nothing.
        expect(pagesWhileWriting).toBeGreaterThan(5);
        expect(seen).toEqual(Array.from({ length: committed }, (_, i) => i + 1));
        expect(await a.store.read((tx) => tx.eventBounds(ORG_A))).toEqual({ horizon: 0, lastId: committed });
      } finally {
        await Promise.all([a.cleanup(), b.cleanup()]);
      }
    });

    it("onCommit hears this node's units only, never another node's on the same schema", async () => {
      const a = await fresh();
      const b = await fresh({ schema: a.schema, migrate: false });
      try {
        await insertOrgs(a.store);
        const nextId = idSequence();
        const heardByA: Array<readonly NewEvent[]> = [];
        const heardByB: Array<readonly NewEvent[]> = [];
        a.store.onCommit((evs) => heardByA.push(evs));
        b.store.onCommit((evs) => heardByB.push(evs));
        const changedForB = new Set<string>();
        b.store.subscribe((c) => changedForB.add(c.taskId));

        const onA = makeTask({ id: nextId(), createdAt: T0 });
        const onB = makeTask({ id: nextId(), createdAt: T0 });
        await b.store.write(async (tx) => {
          await tx.insertTasks([onB]);
          await tx.appendEvents([eventOf(onB, 'task.created')]);
        });
        // Write through A until B's change feed (LISTEN, opened in the background) has heard it:
        // anything of A that could reach B has had its chance.
        const fromA: NewEvent[][] = [];
        await until(
          async () => {
            const evs = [eventOf(onA, 'task.created', { n: fromA.length })];
            await a.store.write(async (tx) => {
              if (fromA.length === 0) await tx.insertTasks([onA]);
              else await tx.updateTask({ ...onA, version: fromA.length + 1 }, { ...onA, version: fromA.length });
              await tx.appendEvents(evs);
            });
            fromA.push(evs);
            return changedForB.has(onA.id);
          },
          5_000,
          "B to hear A's change",
        );
        expect(heardByA).toEqual(fromA);
        expect(heardByB).toEqual([[eventOf(onB, 'task.created')]]);
      } finally {
        await Promise.all([a.cleanup(), b.cleanup()]);
      }
    });
  });
});
