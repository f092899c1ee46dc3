/**
 * Real processes for the reliability tests: `tasklane serve` (the built dist/cli/main.js) on a
 * free port over a temp data folder, and worker processes (worker-process.ts, on the built SDK).
 * Every child is tracked so that `stopAll()` can end what a failed test left running, and every
 * wait is a poll with a deadline or a wait for the child's own output, never a guessed sleep.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

export const REPO = fileURLToPath(new URL('../../../../../', import.meta.url));
const MAIN = join(REPO, 'packages/server/dist/cli/main.js');
const SDK = join(REPO, 'packages/sdk/dist/index.js');
const WORKER_SOURCE = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/** The tests run the built server and SDK: `npx tsc -b` first (as `npm test` does). */
export function assertBuilt(): void {
  for (const file of [MAIN, SDK]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npx tsc -b\` before these tests`);
  }
}

/** A port that was free a moment ago: bind port 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the probe'))));
    });
  });
}

const tempDirs: string[] = [];
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tasklane-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process with its output read line by line; `output` keeps everything for failure messages. */
export class Child {
  readonly exited: Promise<Exit>;
  readonly lines: string[] = [];
  private readonly waiters = new Set<() => void>();
  private stderr = '';
  private exit: Exit | null = null;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    running.add(this);
    this.exited = new Promise((resolve) => {
      process.once('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        this.wake();
        resolve(this.exit);
      });
    });
    if (process.stdout) {
      createInterface({ input: process.stdout }).on('line', (line) => {
        this.lines.push(line);
        this.wake();
      });
    }
    process.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.process.pid;
  }

  get output(): string {
    return `--- ${this.name} stdout\n${this.lines.join('\n')}\n--- ${this.name} stderr\n${this.stderr}`;
  }

  /** The first line (already printed or still to come) that `match` accepts, within `timeoutMs`. */
  async waitForLine<T>(match: (line: string) => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = 0; ;) {
      for (; seen < this.lines.length; seen++) {
        const found = match(this.lines[seen]!);
        if (found !== undefined) return found;
      }
      if (this.exit !== null)
        throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) first\n${this.output}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no such line within ${timeoutMs} ms\n${this.output}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** Send `signal` (to this child only, by its pid) and wait for it to exit. */
  async kill(signal: NodeJS.Signals): Promise<Exit> {
    if (this.exit === null) process.kill(this.pid, signal);
    return this.exited;
  }

  /** Its exit, or null if it is still running after `timeoutMs`. */
  async exitWithin(timeoutMs: number): Promise<Exit | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
    this.waiters.clear();
  }
}

const running = new Set<Child>();

/** SIGKILL every child still running and remove the temp folders (afterAll / afterEach). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.kill('SIGKILL')));
  workerScript = undefined;
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface ServerProcess extends Child {
  url: string;
  rootKey: string;
}

/** `tasklane serve` on `port` over `dataDir`, resolved once it prints "Tasklane listening on URL". */
export async function startServerProcess(opts: {
  port: number;
  dataDir: string;
  name?: string;
  /** More arguments of `serve` (e.g. --webhook-allow-private). */
  args?: string[];
}): Promise<ServerProcess> {
  const proc = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--port',
      String(opts.port),
      '--data-dir',
      opts.dataDir,
      '--log-level',
      'warn',
      '--rate-limit',
      '0',
      ...(opts.args ?? []),
    ],
    { cwd: REPO, env: { ...process.env, TASKLANE_ROOT_KEY: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const child = new Child(opts.name ?? 'server', proc);
  const url = await child.waitForLine((line) => /^Tasklane listening on (\S+)/.exec(line)?.[1], 20_000);
  // Written before the server listens, on the first start; kept for the next starts.
  const rootKey = readFileSync(join(opts.dataDir, 'root-key'), 'utf8').trim();
  return Object.assign(child, { url, rootKey });
}

/** What worker-process.ts reads from WORKER_OPTIONS. */
export interface WorkerProcessOptions {
  /** `count`: complete each task at once, print the ids handled at exit. `hold`: never finish. */
  mode: 'count' | 'hold';
  url: string;
  key: string;
  type: string;
  workerId: string;
  concurrency: number;
  leaseMs: number;
  /** `hold`: print the tasks held once this many handlers run. */
  holdCount?: number;
}

let workerScript: string | undefined;

/**
 * worker-process.ts with its types stripped, as plain JS in a temp folder: eight workers under
 * `node --import tsx` spend seconds of both cores compiling before the test can start; plain node
 * starts one in a third of a second.
 */
function compiledWorkerScript(): string {
  if (workerScript === undefined) {
    const { outputText } = ts.transpileModule(readFileSync(WORKER_SOURCE, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    workerScript = join(tempDir('worker-script'), 'worker-process.mjs');
    writeFileSync(workerScript, outputText);
  }
  return workerScript;
}

/** A worker process (createWorker from the built SDK), resolved once it printed `{"event":"ready"}`. */
export async function startWorkerProcess(opts: WorkerProcessOptions): Promise<Child> {
  const proc = spawn(process.execPath, [compiledWorkerScript()], {
    cwd: REPO,
    env: { ...process.env, WORKER_OPTIONS: JSON.stringify(opts), TASKLANE_SDK_URL: pathToFileURL(SDK).href },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = new Child(opts.workerId, proc);
  await child.waitForLine((line) => eventOf(line, 'ready'), 30_000);
  return child;
}

/** The JSON line `{"event": name, ...}` a worker process printed, or undefined. */
export function eventOf<T extends object = Record<string, unknown>>(
  line: string,
  name: string,
): (T & { event: string }) | undefined {
  if (!line.startsWith('{')) return undefined;
  const parsed = JSON.parse(line) as T & { event?: unknown };
  return parsed.event === name ? (parsed as T & { event: string }) : undefined;
}

/** Poll `probe` until it answers something other than undefined, or fail after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}`);
    await sleep(opts.intervalMs ?? 50);
  }
}

/**
 * Wait until the wall clock passes `epochMs`. Only for real lease expiry, where the time is the
 * lease's own `expiresAt`, not a guess.
 */
export function sleepUntil(epochMs: number): Promise<void> {
  return sleep(Math.max(0, epochMs - Date.now()));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};
