/**
 * The built `tasklane` command as a child process against a real server on a real port (SQLite):
 * `tasks watch` follows a task a worker advances and exits by its end (0 completed, 1 failed,
 * 3 canceled, 130 on Ctrl-C), through a server restart mid-watch; `events` prints a page, or
 * follows as JSON lines; `tasks cancel|retry|approve|reject`.
 */
import { TasklaneClient, type Task } from '@tasklane/sdk';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { until } from '../helpers/http-harness.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = join(REPO, 'packages/server/dist/cli/main.js');

/** A CLI process: its output so far, and its exit code once it ends. */
interface Live {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  code: number | null;
  exited: Promise<number>;
}

let server: RunningServer;
let dir: string;
let port: number;
let adminKey: string;
let admin: TasklaneClient;

const boot = async () => {
  server = await startServer(loadConfig({}, { port: String(port), dataDir: dir, logLevel: 'silent', rateLimit: '0' }));
};

function tasklane(args: string[]): Live {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: REPO,
    env: { ...process.env, TASKLANE_URL: `http://127.0.0.1:${port}`, TASKLANE_KEY: adminKey },
  });
  const live: Live = { child, stdout: '', stderr: '', code: null, exited: Promise.resolve(0) };
  child.stdout.setEncoding('utf8').on('data', (s: string) => (live.stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (live.stderr += s));
  live.exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve((live.code = code ?? (signal === null ? -1 : 128)))),
  );
  return live;
}

/** Runs to the end: code and output. */
async function run(args: string[]): Promise<Live> {
  const live = tasklane(args);
  await live.exited;
  return live;
}

const shows = (live: Live, text: string, what = text) => until(() => live.stdout.includes(text), what, 20_000);

/** Claims `id` as a worker: the lease id. */
async function claim(id: string): Promise<string> {
  const t = await admin.workers.claimOne(id, { workerId: 'cli-live' });
  // The lease id is on the wire only for the worker that holds it, as here.
  if (t.lease?.id === undefined) throw new Error('no lease');
  return t.lease.id;
}

beforeAll(async () => {
  // Build so that running this file alone tests the current source (cli.test.ts does the same).
  await new Promise((resolve) =>
    execFile(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-b'], resolve),
  );
  if (!existsSync(MAIN)) throw new Error(`the build did not produce ${MAIN}`);
  dir = mkdtempSync(join(tmpdir(), 'tasklane-cli-live-'));
  port = 0;
  await boot();
  port = Number(new URL(server.url).port);
  if (server.rootKey === null) throw new Error('the first start should create a root key');
  const root = new TasklaneClient({ url: server.url, key: server.rootKey });
  adminKey = (await root.orgs.create({ id: 'cli-live', name: 'CLI live' })).adminKey.secret;
  admin = new TasklaneClient({ url: server.url, key: adminKey });
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('tasklane tasks watch', () => {
  it('draws a task a worker advances: progress, each step, then the result; exit 0', async () => {
    const t = await admin.tasks.create({ type: 'cli.watch', title: 'Render the report' });
    const watch = tasklane(['tasks', 'watch', t.id]);
    await shows(watch, 'created   queued', 'the stream open');
    const leaseId = await claim(t.id);
    await admin.workers.heartbeat(t.id, { leaseId, progress: 0.5, progressMessage: 'halfway there' });
    await shows(watch, 'progress  50%  halfway there');
    await admin.tasks.appendSteps(t.id, [{ message: 'fetched the data' }, { message: 'drew the charts' }], { leaseId });
    await admin.workers.complete(t.id, { leaseId, result: { pages: 12 } });
    expect(await watch.exited).toBe(0);
    const lines = watch.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`task      ${t.id} (cli.watch): queued`);
    expect(lines.filter((l) => l.startsWith('step'))).toEqual([
      expect.stringMatching(/^step {6}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}fetched the data$/),
      expect.stringMatching(/ {2}drew the charts$/),
    ]);
    expect(lines).toContain('status    queued → in_progress (claim)');
    expect(lines).toContain('status    in_progress → completed (complete)');
    expect(watch.stdout).toContain(`${t.id} completed.\nresult    {\n  "pages": 12\n}\n`);
    expect(watch.stderr).toBe('');
  });

  it('a failed task exits 1 with its error; a canceled one 3; --json prints one event per line, then the task', async () => {
    const t = await admin.tasks.create({ type: 'cli.watch.fail', maxRetries: 0 });
    const watch = tasklane(['tasks', 'watch', t.id]);
    await shows(watch, 'created   queued');
    const leaseId = await claim(t.id);
    await admin.workers.fail(t.id, { leaseId, error: { code: 'OUT_OF_PAPER', message: 'the printer is empty' } });
    expect(await watch.exited).toBe(1);
    expect(watch.stdout).toContain(`${t.id} failed.\nerror     OUT_OF_PAPER: the printer is empty\n`);

    const c = await admin.tasks.create({ type: 'cli.watch.cancel' });
    const json = tasklane(['tasks', 'watch', c.id, '--json']);
    await until(() => json.stdout.includes('"task.created"'), 'the created event');
    await admin.tasks.cancel(c.id, { reason: 'not needed' });
    expect(await json.exited).toBe(3);
    const lines = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines.slice(0, -1);
    expect(events[0]).toMatchObject({ type: 'task.created', taskId: c.id });
    // The cancel's reason is kept as a step, in the same commit as the status change.
    expect(events.map((l) => l.type).sort()).toEqual(['task.created', 'task.status_changed', 'task.step']);
    expect(events.find((l) => l.type === 'task.status_changed')).toMatchObject({
      data: { from: 'queued', to: 'canceled', cause: 'cancel' },
    });
    expect(lines.at(-1)).toMatchObject({ id: c.id, type: 'cli.watch.cancel', status: 'canceled' });
  });

  it("after a reset it ends by the task's status as reloaded, not the last event it saw (exit 0, also with --json)", async () => {
    // A task really completed on the server gives the answers a stand-in server replays: its stream
    // tells in_progress, then `reset` (the history after it reaped while the client was away) and
    // ends, as a terminal task's stream does; the task reloaded after the reset is completed.
    const t = await admin.tasks.create({ type: 'cli.watch.reset' });
    const leaseId = await claim(t.id);
    await admin.workers.complete(t.id, { leaseId, result: { ok: true } });
    const done = await admin.tasks.get(t.id);
    const frame = (id: number, type: string, data: unknown) =>
      `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, type, taskId: t.id, time: done.createdAt, data })}\n\n`;
    const standIn = createServer((req, res) => {
      if (req.url?.endsWith('/events') === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(frame(5, 'task.status_changed', { from: 'queued', to: 'in_progress', cause: 'claim' }));
        res.end(`id: 9\nevent: reset\ndata: ${JSON.stringify({ reason: 'expired', after: 5, lastId: 9 })}\n\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(done));
    });
    await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
    try {
      const plain = await run(['tasks', 'watch', t.id, '--url', url]);
      expect(plain.stdout).toContain(`${t.id} completed.`);
      expect(plain.code).toBe(0);
      const json = await run(['tasks', 'watch', t.id, '--json', '--url', url]);
      expect(json.code).toBe(0);
    } finally {
      standIn.close();
    }
  });

  it('resumes by itself when the server restarts mid-watch, and still ends right', async () => {
    const t = await admin.tasks.create({ type: 'cli.watch.restart' });
    const watch = tasklane(['tasks', 'watch', t.id]);
    await shows(watch, 'created   queued');
    const leaseId = await claim(t.id);
    await admin.tasks.appendSteps(t.id, [{ message: 'before the restart' }], { leaseId });
    await shows(watch, 'before the restart');
    await server.close();
    await boot(); // same port, same database
    admin = new TasklaneClient({ url: server.url, key: adminKey });
    await admin.tasks.appendSteps(t.id, [{ message: 'after the restart' }], { leaseId });
    await admin.workers.complete(t.id, { leaseId, result: null });
    expect(await watch.exited).toBe(0);
    const steps = watch.stdout.split('\n').filter((l) => l.startsWith('step'));
    expect(steps).toEqual([
      expect.stringContaining('before the restart'),
      expect.stringContaining('after the restart'),
    ]);
    // Told on stderr, so that stdout stays the task's story.
    expect(watch.stderr).toMatch(/^tasklane: connection lost \(.+\); resuming in \d+\.\d s$/m);
    expect(watch.stdout).toContain(`${t.id} completed.`);
  }, 60_000);

  it('Ctrl-C ends it with 130; an unknown task is an API error (1), no ID a usage error (2)', async () => {
    const t = await admin.tasks.create({ type: 'cli.watch.sigint' });
    const watch = tasklane(['tasks', 'watch', t.id]);
    await shows(watch, 'created   queued');
    watch.child.kill('SIGINT');
    expect(await watch.exited).toBe(130);
    const missing = await run(['tasks', 'watch', 'NOPE-1']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/^tasklane: NOT_FOUND: /)]);
    const noId = await run(['tasks', 'watch']);
    expect([noId.code, noId.stderr]).toEqual([2, expect.stringContaining('give the task ID')]);
    const help = await run(['tasks', 'watch', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tasklane tasks watch ID/);
    expect(help.stdout).toContain('3 canceled, 130 interrupted');
  });
});

describe('tasklane events', () => {
  it('--json prints the page as JSON; --type filters; --after and --limit page on', async () => {
    const t = await admin.tasks.create({ type: 'cli.events', listId: 'cli-events' });
    await admin.tasks.cancel(t.id);
    const page = JSON.parse((await run(['events', '--json', '--list', 'cli-events'])).stdout) as {
      items: Array<{ id: number; type: string; taskId: string }>;
      nextAfter: number;
      reset: unknown;
    };
    expect(page.items.map((e) => [e.type, e.taskId])).toEqual([
      ['task.created', t.id],
      ['task.status_changed', t.id],
    ]);
    expect(page).toMatchObject({ nextAfter: page.items[1]!.id, reset: null });
    const typed = JSON.parse(
      (await run(['events', '--json', '--list', 'cli-events', '--type', 'task.status_changed'])).stdout,
    ) as typeof page;
    expect(typed.items.map((e) => e.type)).toEqual(['task.status_changed']);
    const rest = JSON.parse(
      (await run(['events', '--json', '--list', 'cli-events', '--after', String(page.items[0]!.id), '--limit', '1']))
        .stdout,
    ) as typeof page;
    expect(rest.items.map((e) => e.id)).toEqual([page.items[1]!.id]);

    const human = await run(['events', '--list', 'cli-events']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ID +TIME +TASK +CHANGE\n/);
    expect(human.stdout).toContain('queued → canceled (cancel)');
    const bad = await run(['events', '--type', 'task.nope']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--type must be one of')]);
  });

  it('--follow --json prints each event as a JSON line as it happens, until Ctrl-C (130)', async () => {
    const follow = tasklane(['events', '--follow', '--json', '--task-type', 'cli.follow']);
    // The stream is open once the server holds it; nothing before it is printed.
    await until(() => server.app.server.listening && follow.stdout === '' && follow.child.pid !== undefined, 'started');
    await admin.tasks.create({ type: 'cli.noise' });
    await until(async () => {
      await admin.tasks.create({ type: 'cli.follow', listId: 'follow' });
      return follow.stdout.includes('"task.created"');
    }, 'an event of the followed type');
    follow.child.kill('SIGINT');
    expect(await follow.exited).toBe(130);
    const lines = follow.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; id: number });
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines.map((l) => l.type))).toEqual(new Set(['task.created']));
    const ids = lines.map((l) => l.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });
});

describe('tasklane tasks cancel|retry|approve|reject', () => {
  it('acts on one task; a wrong status is an API error (1)', async () => {
    const t = await admin.tasks.create({ type: 'cli.act' });
    const canceled = await run(['tasks', 'cancel', t.id, '--reason', 'duplicate', '--json']);
    expect([canceled.code, (JSON.parse(canceled.stdout) as Task).status]).toEqual([0, 'canceled']);
    const retried = await run(['tasks', 'retry', t.id]);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(new RegExp(`^Retried task ${t.id}\\.\\n`));
    const wrong = await run(['tasks', 'approve', t.id]);
    expect([wrong.code, wrong.stderr]).toEqual([1, expect.stringMatching(/^tasklane: INVALID_TRANSITION: /)]);

    for (const [action, status] of [
      ['approve', 'completed'],
      ['reject', 'failed'],
    ] as const) {
      const r = await admin.tasks.create({ type: 'cli.review' });
      const leaseId = await claim(r.id);
      await admin.workers.complete(r.id, { leaseId, result: { draft: true }, review: true });
      const args = action === 'reject' ? ['--reason', 'too long'] : [];
      const done = await run(['tasks', action, r.id, ...args, '--json']);
      expect(done.code, done.stderr).toBe(0);
      expect((JSON.parse(done.stdout) as Task).status).toBe(status);
    }
    for (const line of ['tasks cancel --help', 'tasks reject --help', 'events --help']) {
      const help = await run(line.split(' '));
      expect([help.code, help.stdout], line).toEqual([0, expect.stringMatching(/^Usage: tasklane /)]);
    }
    expect((await run(['tasks', 'reject', '--help'])).stdout).toContain('--requeue');
    expect((await run(['tasks', 'retry', t.id, '--reason', 'x'])).code).toBe(2); // retry takes no reason
    const empty = await run(['tasks', 'reject', t.id, '--reason', '']);
    expect([empty.code, empty.stderr]).toEqual([2, expect.stringContaining('--reason must not be empty')]);
  });
});
