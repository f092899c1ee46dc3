/**
 * Two SQLite stores on one file: another process beside the server (a CLI), or two stores in one
 * process. A writer waits for the other's write lock without blocking its event loop, and every
 * write commits.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/clock.js';
import { createSqliteStore } from '../../../src/storage/sqlite/sqlite-store.js';
import type { TaskStore } from '../../../src/storage/task-store.js';
import { REPO_ROOT, SQLITE_STORE_MODULE as STORE_MODULE, tempDir } from '../../helpers/sqlite.js';
import { ORG_A, T0, makeTask, uuidV7 } from '../../helpers/task-factory.js';

/** One counter step: read the row for update, write it back at version + 1; the version it read. */
function increment(store: TaskStore, taskId: string): Promise<number> {
  return store.write(async (tx) => {
    const t = await tx.getTaskForUpdate(ORG_A, taskId);
    if (t === null) throw new Error('counter missing');
    if (!(await tx.updateTask({ ...t, version: t.version + 1 }))) throw new Error('stale write');
    return t.version;
  });
}

async function counterStore(path: string, busyTimeoutMs?: number): Promise<TaskStore> {
  const store = createSqliteStore({
    path,
    clock: new ManualClock(),
    ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }),
  });
  await store.migrate();
  return store;
}

/**
 * The other process: opens its own store on the file, holds one write unit open (after one
 * increment) until it reads a line on stdin, then runs `n` concurrent increments.
 */
const CHILD = `
import { createInterface } from 'node:readline';
const { createSqliteStore } = await import(process.env.TL_STORE_MODULE);
const { TL_PATH: path, TL_ORG: org, TL_TASK: taskId } = process.env;
const n = Number(process.env.TL_N);
const store = createSqliteStore({ path, clock: { now: () => 0 } });
await store.migrate();
const increment = (tx) =>
  tx.getTaskForUpdate(org, taskId).then(async (t) => {
    if (!(await tx.updateTask({ ...t, version: t.version + 1 }))) throw new Error('stale write');
  });
const lines = createInterface({ input: process.stdin });
const go = new Promise((resolve) => lines.once('line', resolve));
await store.write(async (tx) => {
  await increment(tx);
  process.stdout.write('locked\\n');
  await go;
});
await Promise.all(Array.from({ length: n }, () => store.write(increment)));
await store.close();
lines.close();
process.stdout.write('done\\n');
`;
describe('sqlite: two stores on one file', () => {
  it('a store in another process holding a write unit makes this one wait, not fail; all writes commit', async () => {
    const dir = tempDir();
    const path = join(dir, 'shared.db');
    const n = 20;
    const store = await counterStore(path);
    const counter = makeTask({ id: uuidV7(1), createdAt: T0 });
    await store.write((tx) => tx.insertTasks([counter]));

    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        TL_STORE_MODULE: STORE_MODULE,
        TL_PATH: path,
        TL_ORG: ORG_A,
        TL_TASK: counter.id,
        TL_N: String(n),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close', not 'exit': by then the child's output has been read to the end.
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const out = createInterface({ input: child.stdout });
    const said = (word: string) =>
      new Promise<void>((resolve, reject) => {
        out.on('line', (line) => line === word && resolve());
        void exited.then((code) => reject(new Error(`child exited (${code}) before '${word}': ${stderr}`)));
      });
    const done = said('done');
    done.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    try {
      await said('locked');
      // The child holds SQLite's write lock now. Let it go on, and write at once: this unit must
      // wait for the child's commit (so it reads the child's increment), not fail with SQLITE_BUSY.
      child.stdin.write('go\n');
      const versionsRead = await Promise.all(Array.from({ length: n }, () => increment(store, counter.id)));
      // The first unit began while the child held the lock, so it ran after the child's commit.
      expect(versionsRead[0]).toBeGreaterThanOrEqual(2);
      await done;
      expect(await exited).toBe(0);
      expect((await store.read((tx) => tx.getTask(ORG_A, counter.id)))?.version).toBe(1 + 1 + 2 * n);
    } finally {
      if (child.exitCode === null && child.pid !== undefined) child.kill();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("in one process, a second store waits for the first store's open write unit instead of failing with SQLITE_BUSY", async () => {
    const dir = tempDir();
    const path = join(dir, 'shared.db');
    // A short busy timeout only makes the failure quick: the first unit ends microseconds after
    // the second is issued, so a store that waits without blocking the event loop passes.
    const first = await counterStore(path, 2_000);
    const second = await counterStore(path, 2_000);
    try {
      const counter = makeTask({ id: uuidV7(1), createdAt: T0 });
      await first.write((tx) => tx.insertTasks([counter]));

      let signalHeld!: () => void;
      const held = new Promise<void>((resolve) => (signalHeld = resolve));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const holding = first.write(async (tx) => {
        const t = await tx.getTaskForUpdate(ORG_A, counter.id);
        if (t === null) throw new Error('counter missing');
        await tx.updateTask({ ...t, version: t.version + 1 });
        signalHeld();
        await gate;
      });
      await held;
      const waiting = increment(second, counter.id);
      release();
      const settled = await Promise.allSettled([holding, waiting]);
      expect(settled.map((s) => (s.status === 'rejected' ? String(s.reason) : 'committed'))).toEqual([
        'committed',
        'committed',
      ]);

      // Then both stores write concurrently, and every unit commits.
      const all = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => increment(i % 2 === 0 ? first : second, counter.id)),
      );
      expect(
        all.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason)),
      ).toEqual([]);
      expect((await first.read((tx) => tx.getTask(ORG_A, counter.id)))?.version).toBe(1 + 2 + 20);
    } finally {
      await first.close();
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
