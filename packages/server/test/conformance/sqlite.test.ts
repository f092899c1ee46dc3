/**
 * The SQLite adapter: the conformance suite on a temp file and on ':memory:', then two stores
 * sharing one file (another process beside the server, or two stores in one process).
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { loadMigrations } from '../../src/storage/migrations.js';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0, makeTask, uuidV7 } from '../helpers/task-factory.js';
import { recordCacheCoherenceSuite } from './record-cache-coherence.js';
import { storeConformanceSuite } from './store-conformance.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const STORE_MODULE = pathToFileURL(
  fileURLToPath(new URL('../../src/storage/sqlite/sqlite-store.ts', import.meta.url)),
).href;

const MIGRATIONS_DIR = fileURLToPath(new URL('../../src/storage/sqlite/migrations/', import.meta.url));

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tasklane-sqlite-'));
}

storeConformanceSuite('sqlite (temp file)', async () => {
  const dir = tempDir();
  const clock = new ManualClock();
  const store = createSqliteStore({ path: join(dir, 'tasklane.db'), clock });
  await store.migrate();
  return {
    store,
    clock,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

storeConformanceSuite('sqlite (:memory:)', async () => {
  const clock = new ManualClock();
  const store = createSqliteStore({ path: ':memory:', clock });
  await store.migrate();
  return { store, clock, cleanup: () => store.close() };
});

recordCacheCoherenceSuite('sqlite, two stores on one file', async () => {
  const dir = tempDir();
  const path = join(dir, 'tasklane.db');
  const a = createSqliteStore({ path, clock: new ManualClock() });
  await a.migrate();
  const b = createSqliteStore({ path, clock: new ManualClock() });
  await b.migrate();
  return {
    a,
    b,
    cleanup: async () => {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

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

describe('sqlite: migrations', () => {
  it('006 carries the per-task claim log of 005 over as counts, and rate limits keep counting them', async () => {
    const dir = tempDir();
    const path = join(dir, 'old.db');
    try {
      // A database as a Tasklane at schema version 5 left it, with claims logged one row per task.
      const old = new Database(path);
      old.exec(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      );
      for (const m of loadMigrations(MIGRATIONS_DIR).slice(0, 5)) {
        old.exec(m.sql);
        old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
      const log = old.prepare('INSERT INTO claims (org_id, type, time, task_id) VALUES (?, ?, ?, ?)');
      for (const [org, type, time] of [
        [ORG_A, 'email.send', T0],
        [ORG_A, 'email.send', T0],
        [ORG_A, 'email.send', T0 + 5],
        [ORG_A, 'pdf.render', T0],
        [ORG_B, 'email.send', T0],
      ] as const)
        log.run(org, type, time, uuidV7(time));
      old.close();

      const clock = new ManualClock(T0 + 10);
      const store = createSqliteStore({ path, clock });
      try {
        await store.migrate();
        await store.read(async (tx) => {
          expect(await tx.countClaims(ORG_A, T0)).toBe(4);
          expect(await tx.countClaims(ORG_A, T0, 'email.send')).toBe(3);
          expect(await tx.countClaims(ORG_A, T0 + 1, 'email.send')).toBe(1);
          expect(await tx.firstClaimSince(ORG_A, 'email.send', T0 + 1)).toBe(T0 + 5);
          expect(await tx.countClaims(ORG_B, T0)).toBe(1);
        });
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite: the checkpoint thread', () => {
  it('close() finishes in a process with nothing else to do (the thread does not let it exit early)', async () => {
    const dir = tempDir();
    const script = `
      const { createSqliteStore } = await import(process.env.TL_STORE_MODULE);
      const store = createSqliteStore({ path: process.env.TL_PATH, clock: { now: () => 0 } });
      await store.migrate();
      await store.close();
      process.stdout.write('closed\\n');
    `;
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: REPO_ROOT,
        env: { ...process.env, TL_STORE_MODULE: STORE_MODULE, TL_PATH: join(dir, 'tasklane.db') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect({ code, out }).toEqual({ code: 0, out: 'closed\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('copies committed pages into the database file while the store runs, and stops on close', async () => {
    const dir = tempDir();
    const path = join(dir, 'tasklane.db');
    const store = createSqliteStore({ path, clock: new ManualClock(), checkpointIntervalMs: 10 });
    try {
      await store.migrate();
      const before = statSync(path).size;
      // About 1 MB of tasks: some 300 WAL pages, below SQLite's own threshold (1,000, which the
      // writer would use without the thread) and the writer's while the thread runs (10,000): only
      // the thread can have put them into the database file.
      const input = { blob: 'x'.repeat(2_000) };
      for (let batch = 0; batch < 5; batch++) {
        const tasks = Array.from({ length: 100 }, (_, i) => makeTask({ id: uuidV7(batch * 100 + i + 1), input }));
        await store.write((tx) => tx.insertTasks(tasks));
      }
      const deadline = Date.now() + 10_000;
      while (statSync(path).size < before + 500_000 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(statSync(path).size).toBeGreaterThan(before + 500_000);
      expect((await store.read((tx) => tx.getTask(ORG_A, uuidV7(500))))?.input).toEqual(input);
    } finally {
      await store.close();
    }
    // Closed: the last connection checkpointed and removed the WAL; the file has everything.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = createSqliteStore({ path, clock: new ManualClock() });
    try {
      expect((await reopened.read((tx) => tx.getTasks(ORG_A, [uuidV7(1), uuidV7(500)]))).length).toBe(2);
    } finally {
      await reopened.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

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
