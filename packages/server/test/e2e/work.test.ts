/**
 * `tasklane work --type T -- COMMAND` as a process against a real server, with a small node
 * command: what work.ts promises. The task's JSON goes to COMMAND's stdin; its stdout is the result
 * (JSON when it parses, else the text); each stderr line is a step; exit 0 completes, anything else
 * fails the task (retried per its policy); a task canceled meanwhile gets its COMMAND terminated;
 * SIGTERM stops claiming, lets the running command finish, and exits 0.
 */
import { TasklaneClient, type Task } from '@tasklane/sdk';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const TYPE = 'e2e.work';

/**
 * The command each task runs: reads the task from stdin, says what it got on stderr (a step), then
 * fails with `fail`, waits for the file `hold` to exist, echoes `text`, or answers `n` doubled.
 */
const COMMAND = `
const fs = require('node:fs');
let raw = '';
process.stdin.setEncoding('utf8').on('data', (c) => (raw += c)).on('end', () => {
  const { input } = JSON.parse(raw);
  process.stderr.write('got ' + JSON.stringify(input) + '\\n');
  if (input.fail) {
    process.stdout.write('boom');
    process.exit(3);
  }
  if (input.hold) {
    const timer = setInterval(() => {
      if (!fs.existsSync(input.hold)) return;
      clearInterval(timer);
      process.stdout.write(JSON.stringify({ held: true }));
    }, 20);
    return;
  }
  process.stdout.write(typeof input.text === 'string' ? input.text : JSON.stringify({ doubled: input.n * 2 }));
});
`;

let server: RunningServer;
let client: TasklaneClient;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tasklane-work-'));
  server = await startServer(loadConfig({}, { port: '0', dataDir: dir, logLevel: 'silent', rateLimit: '0' }));
  if (server.rootKey === null) throw new Error('the first start should create a root key');
  client = new TasklaneClient({ url: server.url, key: server.rootKey });
  env = { TASKLANE_URL: server.url, TASKLANE_KEY: server.rootKey };
});

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** `tasklane work` running COMMAND, resolved once it says it is claiming. */
async function startWorker(): Promise<{ proc: ChildProcessWithoutNullStreams; stderr: () => string }> {
  const proc = spawn(
    process.execPath,
    [MAIN, 'work', '--type', TYPE, '--lease-ms', '3000', '--', process.execPath, '-e', COMMAND],
    { env: { ...process.env, ...env } },
  );
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes(`claiming ${TYPE}`)) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`tasklane work exited with ${code}: ${stderr}`)));
  });
  return { proc, stderr: () => stderr };
}

const create = (input: unknown, extra: { maxRetries?: number } = {}) =>
  client.tasks.create({ type: TYPE, input, ...extra, retryPolicy: { strategy: 'fixed', delayMs: 0, jitter: 'none' } });

/** Long-polls the task until `done` holds (each poll returns when the task changes). */
async function until(task: Task, done: (t: Task) => boolean): Promise<Task> {
  let current = task;
  while (!done(current))
    current = (await client.tasks.get(task.id, { wait: 20, ifNoneMatch: current.version })) ?? current;
  return current;
}

const finished = (t: Task) => ['completed', 'failed', 'canceled'].includes(t.status);
const exitOf = (proc: ChildProcessWithoutNullStreams) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.exitCode !== null || proc.signalCode !== null
      ? resolve({ code: proc.exitCode, signal: proc.signalCode })
      : proc.once('exit', (code, signal) => resolve({ code, signal })),
  );

describe('tasklane work', () => {
  it('runs the command per task, cancels it with its task, and stops cleanly on SIGTERM', async () => {
    const worker = await startWorker();
    try {
      // stdout is the result (JSON when it parses, else the text), stderr lines are steps.
      const json = await until(await create({ n: 21 }), finished);
      expect(json.status).toBe('completed');
      expect(json.result).toEqual({ doubled: 42 });
      expect(json.steps.map((s) => s.message)).toContain('got {"n":21}');
      const text = await until(await create({ text: 'plain words' }), finished);
      expect(text).toMatchObject({ status: 'completed', result: 'plain words' });

      // A non-zero exit fails the attempt; the task's one retry runs the command again, then it fails.
      const failing = await until(await create({ fail: true }, { maxRetries: 1 }), finished);
      expect(failing).toMatchObject({ status: 'failed', attempt: 2, retryCount: 1 });
      expect(failing.error).toMatchObject({ code: 'COMMAND_FAILED' });
      expect(failing.error?.message).toMatch(/exited with code 3: boom$/);
      expect(failing.steps.filter((s) => s.message === 'got {"fail":true}')).toHaveLength(2);

      // Canceling a task whose command runs ends that command: the worker's one slot frees up.
      const stuck = await create({ hold: join(dir, 'never') });
      await until(stuck, (t) => t.steps.length > 0);
      await client.tasks.cancel(stuck.id);
      const next = await until(await create({ n: 1 }), finished);
      expect(next).toMatchObject({ status: 'completed', result: { doubled: 2 } });

      // SIGTERM: no more claims; the running command finishes and reports, then the process exits 0.
      const release = join(dir, 'release');
      const held = await create({ hold: release });
      await until(held, (t) => t.steps.length > 0);
      worker.proc.kill('SIGTERM');
      const late = await create({ n: 5 });
      writeFileSync(release, '');
      expect(await until(held, finished)).toMatchObject({ status: 'completed', result: { held: true } });
      expect(await exitOf(worker.proc)).toEqual({ code: 0, signal: null });
      expect(await client.tasks.get(late.id)).toMatchObject({ status: 'queued', attempt: 0 });
      expect(worker.stderr()).not.toMatch(/tasklane work: .*(error|refused)/i);
    } finally {
      if (worker.proc.exitCode === null) worker.proc.kill('SIGKILL');
    }
  });

  it('refuses to start without a type or a command (exit 2)', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) =>
        execFile(process.execPath, [MAIN, 'work', ...args], { env: { ...process.env, ...env } }, (err, _out, stderr) =>
          resolve({ code: err === null ? 0 : (err.code as number), stderr }),
        ),
      );
    expect(await run(['--', 'true'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--type') });
    expect(await run(['--type', TYPE])).toMatchObject({ code: 2, stderr: expect.stringContaining('after --') });
  });
});
