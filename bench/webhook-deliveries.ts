/**
 * Webhook deliveries per second from one node to a local receiver: the outbox is filled first
 * (tasks created in batches with the dispatcher stopped, one delivery per task.created), then the
 * dispatcher is started and timed until the outbox has nothing pending. Each delivery is a whole
 * attempt: claim under a lease, sign (standardwebhooks), POST on a fresh connection to a receiver
 * in a child process answering 200, record the attempt. Prints deliveries/s and the node's CPU µs
 * per delivery, per round, and the median.
 *
 *   npm run build && npx tsx bench/webhook-deliveries.ts [--database=sqlite|postgres://…]
 *     [--deliveries=2000] [--rounds=3]
 *
 * No peer: it compares builds (A, B, A, B). On PostgreSQL the database's CPU is not counted.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { systemClock } from '../packages/server/dist/domain/clock.js';
import { deliveryBody } from '../packages/server/dist/http/event-frames.js';
import { createServices } from '../packages/server/dist/service/services.js';
import { openStore } from '../packages/server/dist/storage/open-store.js';
import { readFlags } from './lib/options.js';

const flags = readFlags(process.argv.slice(2));
const DELIVERIES = Number(flags.get('deliveries') ?? 2000);
const ROUNDS = Number(flags.get('rounds') ?? 3);
const DB = flags.get('database') ?? 'sqlite';

// The receiver: its own process (its CPU is not the node's), answering 200 to every POST.
const RECEIVER = `
const http = require('node:http');
let n = 0;
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { n++; res.end('ok'); }); });
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
process.stdin.on('data', () => console.log('count ' + n));`;
const receiver = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: receiver.stdout });
const nextLine = (prefix: string) =>
  new Promise<number>((resolve) => {
    const on = (line: string) => {
      if (!line.startsWith(prefix)) return;
      lines.off('line', on);
      resolve(Number(line.slice(prefix.length)));
    };
    lines.on('line', on);
  });
const port = await nextLine('port ');
const received = async () => {
  const answer = nextLine('count ');
  receiver.stdin.write('\n');
  return answer;
};

const dir = mkdtempSync(join(os.tmpdir(), 'tasklane-webhooks-'));
const schema = `tlhooks_${process.pid}_${Date.now()}`;
const url = DB === 'sqlite' ? `sqlite:${join(dir, 'tasklane.db')}` : DB;
const store = openStore(url, systemClock, DB === 'sqlite' ? {} : { schema });
await store.migrate();
const s = createServices(store, {
  clock: systemClock,
  webhooks: { allowPrivate: true, renderEvent: deliveryBody, onError: (err) => console.error(err) },
});
const orgId = 'default';
await store.write(async (tx) => {
  if ((await tx.getOrg(orgId)) === null) await tx.insertOrg({ id: orgId, name: 'bench', createdAt: Date.now() });
});
await s.webhooks.create(orgId, { url: `http://127.0.0.1:${port}/hook`, events: ['task.created'] });

interface Round {
  perSecond: number;
  cpuUsPerDelivery: number;
}

async function round(n: number): Promise<Round> {
  for (let i = 0; i < n; i += 500) {
    const tasks = Array.from({ length: Math.min(500, n - i) }, () => ({ type: 'bench.hooked', input: {} }));
    await s.tasks.createBatch({ orgId, keyName: 'bench' }, { tasks });
  }
  const before = await received();
  const cpu = process.cpuUsage();
  const at = performance.now();
  s.dispatcher.start();
  while ((await store.webhooks.countPendingDeliveries()) > 0) await new Promise((r) => setTimeout(r, 10));
  const ms = performance.now() - at;
  const used = process.cpuUsage(cpu);
  await s.dispatcher.stop();
  const got = (await received()) - before;
  if (got !== n) throw new Error(`the receiver got ${got} requests, not ${n}`);
  return { perSecond: (n * 1000) / ms, cpuUsPerDelivery: (used.user + used.system) / n };
}

await round(Math.min(500, DELIVERIES));
const rows: Round[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const row = await round(DELIVERIES);
  rows.push(row);
  console.log(
    `round ${r + 1}: ${row.perSecond.toFixed(0)} deliveries/s, ${row.cpuUsPerDelivery.toFixed(0)} µs of node CPU a delivery`,
  );
}
const med = (k: keyof Round) => rows.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)] ?? 0;
console.log(
  `${DB.split(':')[0]}: median of ${ROUNDS} × ${DELIVERIES}: ${med('perSecond').toFixed(0)} deliveries/s, ` +
    `${med('cpuUsPerDelivery').toFixed(0)} µs of node CPU a delivery`,
);
await store.close();
receiver.kill();
rmSync(dir, { recursive: true, force: true });
if (DB !== 'sqlite') {
  const admin = new pg.Client({ connectionString: DB });
  await admin.connect();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
