/**
 * BullMQ (Redis) in the end-to-end benchmark. Jobs are added with `addBulk` (1,000 a call, one
 * pipeline) and processed by a `Worker` with the same concurrency as Tasklane's workers. Completed
 * jobs are removed (`removeOnComplete: true`, as BullMQ advises for production queues that do not
 * need the history), and the Worker's 'completed' event fires after the job was moved to
 * completed in Redis, so its count is final. Every key lives under a prefix of this run, removed
 * afterwards.
 */
// BullMQ is not a dependency of the repository (its msgpackr-extract pulls platform packages that
// npm leaves out of the lock file, which then breaks `npm ci`): install it for the benchmark with
// `npm install --no-save bullmq@5`. It is loaded only when the BullMQ row runs.
async function loadBullmq(): Promise<typeof import('bullmq')> {
  try {
    return await import('bullmq');
  } catch {
    throw new Error('BullMQ is not installed: run `npm install --no-save bullmq@5` first (see bench/README.md).');
  }
}
import { createRequire } from 'node:module';
import type { Backend, BenchEnv, Prepared, RunWorker } from '../lib/e2e-types.js';
import { probeOf } from '../lib/e2e-types.js';
import { cpuOfProcesses, redisServers } from '../lib/proc-cpu.js';

const QUEUE = 'noop';
const VERSION = (() => {
  try {
    return (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
  } catch {
    return '(not installed)';
  }
})();

interface Config {
  redisUrl: string;
  prefix: string;
}

const connection = (redisUrl: string) => {
  const u = new URL(redisUrl);
  return { host: u.hostname, port: Number(u.port || 6379), db: Number(u.pathname.slice(1) || 0) };
};

export const bullmq: Backend = {
  id: 'bullmq',
  label: `BullMQ ${VERSION}`,
  storage: 'redis',
  async prepare(env: BenchEnv): Promise<Prepared> {
    const { Queue } = await loadBullmq();
    const prefix = `tlbench-${env.stamp}`;
    const queue = new Queue(QUEUE, {
      connection: connection(env.redisUrl),
      prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000 },
    });
    await queue.waitUntilReady();
    const redisCpu = cpuOfProcesses(redisServers);
    return {
      settings: {
        add: 'Queue.addBulk, 1,000 jobs a call',
        workerConcurrency: env.concurrency,
        removeOnComplete: true,
        redis: env.redisUrl,
        prefix,
      },
      workerModule: new URL(import.meta.url),
      workerConfig: (): Config => ({ redisUrl: env.redisUrl, prefix }),
      servers: [],
      storageCpuSeconds: () => redisCpu.sample(),
      addBatch: async (size) => {
        await queue.addBulk(Array.from({ length: size }, () => ({ name: QUEUE, data: {} })));
      },
      addProbe: async (probe) => {
        await queue.add(QUEUE, { probe });
      },
      check: async () => {
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
        return {
          completed: null,
          pending: (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c.failed ?? 0),
        };
      },
      teardown: async () => {
        await queue.obliterate({ force: true });
        await queue.close();
        // Anything left under the prefix (meta keys, event stream).
        // ioredis comes with BullMQ; loaded with it, only when this row runs.
        const { Redis } = await import('ioredis');
        const redis = new Redis(connection(env.redisUrl));
        try {
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
            cursor = next;
            if (keys.length > 0) await redis.del(...keys);
          } while (cursor !== '0');
        } finally {
          redis.disconnect();
        }
        return null;
      },
    };
  },
};

export const runWorker: RunWorker = async (ctx) => {
  const { redisUrl, prefix } = ctx.config as Config;
  const { Worker } = await loadBullmq();
  const worker = new Worker(
    QUEUE,
    async (job) => {
      const probe = probeOf(job.data);
      if (probe !== null) ctx.probe(probe);
      ctx.handled();
    },
    { connection: connection(redisUrl), prefix, concurrency: ctx.concurrency },
  );
  worker.on('completed', () => ctx.completed(1));
  worker.on('error', (err) => process.stderr.write(`  [bullmq worker ${ctx.index}] ${String(err)}\n`));
  await worker.waitUntilReady();
  return { stop: () => worker.close() };
};
