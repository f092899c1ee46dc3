/**
 * The SQLite checkpoint thread (sqlite/checkpointer.ts): it copies committed pages into the
 * database file while the store runs, and never keeps a process from exiting.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/clock.js';
import { createSqliteStore } from '../../../src/storage/sqlite/sqlite-store.js';
import { REPO_ROOT, SQLITE_STORE_MODULE as STORE_MODULE, tempDir } from '../../helpers/sqlite.js';
import { ORG_A, makeTask, uuidV7 } from '../../helpers/task-factory.js';

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
