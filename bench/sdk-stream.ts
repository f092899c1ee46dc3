/**
 * What the SDK's live iterator costs a client: one `events.stream` reading a replay of `--events`
 * events (task.created, from a server node on SQLite) as fast as the server sends them, against a
 * bare reader of the same stream (node:http, frames split by hand, each data line JSON-parsed: the
 * least a client can do). Reports, per reader, events per second and this process's CPU per event
 * (the client's: the server's replay is the same for both), median over `--rounds` alternating runs.
 *
 *   npm run build && npx tsx bench/sdk-stream.ts [--events=20000] [--rounds=5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { TasklaneClient } from '@tasklane/sdk';
import { readFlags } from './lib/options.js';
import { codeVersion, fmt, log, machineInfo } from './lib/report.js';
import { newRootKey, startNode } from './lib/tasklane-nodes.js';

const flags = readFlags(process.argv.slice(2));
const EVENTS = Number(flags.get('events') ?? 20_000);
const ROUNDS = Number(flags.get('rounds') ?? 5);

interface Run {
  seconds: number;
  cpuMicros: number;
}

/** The stream's events after 0 through node:http until `count` have come. */
function bare(url: string, key: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/events`,
      { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', 'last-event-id': '0' }, agent: false },
      (res) => {
        let buffer = '';
        let seen = 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = frame.split('\n').find((l) => l.startsWith('data: '));
            if (data === undefined) continue;
            JSON.parse(data.slice(6));
            if (++seen === count) {
              res.destroy();
              resolve();
            }
          }
        });
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end();
  });
}

/** The same through the SDK's iterator. */
async function sdk(client: TasklaneClient, count: number): Promise<void> {
  let seen = 0;
  for await (const item of client.events.stream({}, { after: 0 })) {
    if (item.type !== 'reset' && ++seen === count) return;
  }
}

async function measure(work: () => Promise<void>): Promise<Run> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuMicros: used.user + used.system };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'tasklane-bench-sdk-stream-'));
  const rootKey = newRootKey();
  const node = await startNode({ name: 'node', dataDir: dir, rootKey });
  try {
    const client = new TasklaneClient({ url: node.url, key: rootKey });
    log(`creating ${EVENTS} tasks (one task.created event each)…`);
    for (let made = 0; made < EVENTS; made += 1000) {
      const n = Math.min(1000, EVENTS - made);
      await client.tasks.createBatch(
        { tasks: Array.from({ length: n }, (_, i) => ({ type: 'bench.sdk', title: `t${made + i}` })) },
        { minimal: true },
      );
    }
    const runs: Record<'bare' | 'sdk', Run[]> = { bare: [], sdk: [] };
    // One warm-up each, then alternating rounds, so that neither reader always runs on a warmer server.
    await bare(node.url, rootKey, EVENTS);
    await sdk(client, EVENTS);
    for (let r = 0; r < ROUNDS; r++) {
      runs.bare.push(await measure(() => bare(node.url, rootKey, EVENTS)));
      runs.sdk.push(await measure(() => sdk(client, EVENTS)));
    }
    const summary = Object.fromEntries(
      (['bare', 'sdk'] as const).map((name) => [
        name,
        {
          eventsPerSecond: median(runs[name].map((x) => EVENTS / x.seconds)),
          clientCpuMicrosPerEvent: median(runs[name].map((x) => x.cpuMicros / EVENTS)),
        },
      ]),
    );
    for (const [name, s] of Object.entries(summary)) {
      log(
        `${name.padEnd(4)}  ${fmt(s.eventsPerSecond, 0)} events/s  ${fmt(s.clientCpuMicrosPerEvent, 1)} µs client CPU an event`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({ events: EVENTS, rounds: ROUNDS, summary, machine: machineInfo(), code: codeVersion() }, null, 2)}\n`,
    );
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
