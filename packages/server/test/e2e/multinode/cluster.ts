/**
 * Several `tasklane serve` processes on one PostgreSQL schema, for the multi-node and fault tests.
 * Built on the reliability harness (Child, free ports, temp folders, stopAll): this file adds what a
 * PostgreSQL node needs (database URL, schema, pool, a root key every node shares), a schema per
 * test file that is dropped when the file passed, and a timed HTTP call that never throws.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeEach, describe } from 'vitest';
import { pgUrl } from '../../helpers/pg.js';
import { Child, freePort, REPO, tempDir } from '../reliability/harness.js';

const MAIN = join(REPO, 'packages/server/dist/cli/main.js');

/** The same root key on every node (TASKLANE_ROOT_KEY), so a test can call any of them. */
export const ROOT_KEY = 'tl_multinodeTestRootKey0123456789abcdefghij';

/** `describe`, or `describe.skip` with a title that says why when TASKLANE_TEST_PG_URL is not set. */
export function describePg(title: string, body: () => void): void {
  if (pgUrl() === null) describe.skip(`PostgreSQL tests skipped: set TASKLANE_TEST_PG_URL (${title})`, body);
  else describe(title, body);
}

/** The test server's URL (only called inside describePg, where it is set). */
export function testPgUrl(): string {
  const url = pgUrl();
  if (url === null) throw new Error('TASKLANE_TEST_PG_URL is not set');
  return url;
}

/** The test server's URL with its host and port replaced (a node that reaches PostgreSQL through a proxy). */
export function viaPort(port: number): string {
  const url = new URL(testPgUrl());
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}

/** A plain query on the test server, outside any node (pg_stat_activity, schema cleanup). */
export async function pgQuery<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: testPgUrl() });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * A schema name for this test file. The nodes create it (their migrations); it is dropped when the
 * file ends with every test passed, and kept (its name printed) when one failed.
 */
export function fileSchema(name: string): string {
  const schema = `tl_mn_${name}_${randomBytes(3).toString('hex')}`;
  let failed = false;
  beforeEach(({ onTestFailed }) => onTestFailed(() => void (failed = true)));
  afterAll(async () => {
    if (pgUrl() === null) return;
    if (failed) {
      console.warn(
        `PostgreSQL schema ${schema} kept for a failed test: inspect it, then DROP SCHEMA ${schema} CASCADE`,
      );
      return;
    }
    await pgQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });
  return schema;
}

export interface NodeOptions {
  name: string;
  schema: string;
  /** Default: the test server itself; a proxy's URL for the fault tests. */
  databaseUrl?: string;
  /** --db-pool; the server's default (10) when left out. */
  pool?: number;
  port?: number;
  /** More arguments of `serve` (e.g. --webhook-allow-private). */
  args?: string[];
}

export interface PgNode extends Child {
  url: string;
  port: number;
}

/** `tasklane serve` on PostgreSQL, not waited for: the caller decides what to wait for. */
export async function spawnNode(opts: NodeOptions): Promise<{ child: Child; port: number }> {
  const port = opts.port ?? (await freePort());
  const args = [
    MAIN,
    'serve',
    '--port',
    String(port),
    '--data-dir',
    tempDir(`mn-${opts.name}`),
    '--database',
    opts.databaseUrl ?? testPgUrl(),
    '--db-schema',
    opts.schema,
    '--log-level',
    'warn',
    '--rate-limit',
    '0',
    ...(opts.pool === undefined ? [] : ['--db-pool', String(opts.pool)]),
    ...(opts.args ?? []),
  ];
  const env = {
    ...process.env,
    TASKLANE_ROOT_KEY: ROOT_KEY,
    TASKLANE_DATABASE_URL: '',
    TASKLANE_DB_POOL: '',
    TASKLANE_DB_SCHEMA: '',
  };
  const proc = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { child: new Child(opts.name, proc), port };
}

/** Waits for "Tasklane listening on URL" (a node that waits for its database waits here too). */
export async function untilListening(child: Child, port: number, timeoutMs = 30_000): Promise<PgNode> {
  const url = await child.waitForLine((line) => /^Tasklane listening on (\S+)/.exec(line)?.[1], timeoutMs);
  return Object.assign(child, { url, port });
}

export async function startNode(opts: NodeOptions): Promise<PgNode> {
  const { child, port } = await spawnNode(opts);
  return untilListening(child, port);
}

/** One HTTP exchange, timed; never throws (status 0 and `error` when no answer came). */
export interface Answer<T = unknown> {
  status: number;
  body: T;
  headers: Headers | null;
  /** `code` of a problem+json answer. */
  code: string | undefined;
  error?: string;
  /** Epoch milliseconds (fractional): when the request was sent and the answer fully read. */
  sentAt: number;
  answeredAt: number;
  ms: number;
}

const nowMs = (): number => performance.timeOrigin + performance.now();

export async function call<T = unknown>(
  node: { url: string },
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number; key?: string } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${opts.key ?? ROOT_KEY}`,
    ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...opts.headers,
  };
  const sentAt = nowMs();
  try {
    const res = await fetch(node.url + path, {
      method,
      headers,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    });
    const text = await res.text();
    const answeredAt = nowMs();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    const code = typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined;
    return {
      status: res.status,
      body: body as T,
      headers: res.headers,
      code: typeof code === 'string' ? code : undefined,
      sentAt,
      answeredAt,
      ms: answeredAt - sentAt,
    };
  } catch (err) {
    const answeredAt = nowMs();
    const cause = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return {
      status: 0,
      body: undefined as T,
      headers: null,
      code: undefined,
      error: cause,
      sentAt,
      answeredAt,
      ms: answeredAt - sentAt,
    };
  }
}

/** Throws with the answer when its status is not `status`; returns the body. */
export function expectStatus<T>(answer: Answer<T>, status: number, what: string): T {
  if (answer.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body) ?? answer.error}`);
  }
  return answer.body;
}

export interface WireTask {
  id: string;
  type: string;
  status: string;
  attempt: number;
  version: number;
  startedAt: string | null;
  lease: { id?: string; workerId: string; expiresAt: string } | null;
}

/** Every task of `type`, through one node (newest first, all pages). */
export async function listType(node: { url: string }, type: string): Promise<WireTask[]> {
  const all: WireTask[] = [];
  let cursor: string | null = null;
  for (;;) {
    const q: string = `/v1/tasks?type=${encodeURIComponent(type)}&limit=200${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const page = expectStatus(
      await call<{ items: WireTask[]; nextCursor: string | null; hasMore: boolean }>(node, 'GET', q),
      200,
      `list ${type}`,
    );
    all.push(...page.items);
    if (!page.hasMore || page.nextCursor === null) return all;
    cursor = page.nextCursor;
  }
}

export const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export const round = (ms: number): number => Math.round(ms * 10) / 10;

/** What pg_stat_activity shows of one node's connections (those whose client ports are `ports`). */
export async function connectionsOf(
  schema: string,
  ports: ReadonlySet<number>,
): Promise<{ pool: number; listen: number; listening: boolean }> {
  const rows = await pgQuery<{ application_name: string; state: string | null; query: string }>(
    'SELECT application_name, state, query FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND application_name IN ($2, $3)',
    [[...ports], `tasklane/${schema}`, `tasklane-listen/${schema}`],
  );
  const listen = rows.filter((r) => r.application_name.startsWith('tasklane-listen/'));
  return {
    pool: rows.length - listen.length,
    listen: listen.length,
    // The LISTEN ran and the connection waits for notifications.
    listening: listen.some((r) => r.state === 'idle' && /^LISTEN /i.test(r.query)),
  };
}
