/**
 * GET /v1/tasks/{id}: Tasklane against a bare Fastify route returning a fixed object of the same
 * size, in one run. Seeds a temp database, starts both servers as child processes, loads each in
 * ABBA order, prints the figures and writes them to bench/results/. Setup and figures: README.md.
 *
 *   npm run build && npx tsx bench/get-task.ts [--tasks=100000 --connections=50 --duration=10 …]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForQuiet } from './lib/machine-cpu.js';
import { runLoad, type LoadSettings, type RunResult } from './lib/load.js';
import { readOptions, type GetTaskOptions } from './lib/options.js';
import { runInOwnSchedulingGroup } from './lib/priority.js';
import { summarizeProfile, formatProfileSummary, type ProfileSummary } from './lib/profile.js';
import { seedTasks } from './lib/seed.js';
import { startServerProcess, type ServerProcess } from './lib/server-process.js';
import { codeVersion, fmt, log, machineInfo, printRun, printSummary, summarize } from './lib/report.js';
import { shuffled } from './lib/rotation.js';
import { round, type LatencySamples } from './lib/stats.js';

const TARGET_RATIO = 0.7;
const TARGET_P99_MS = 10;
/** Other processes may use this much CPU (cores) before a run starts; see waitForQuiet. */
const MAX_OTHER_CORES = 0.25;

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

async function fetchBody(url: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${text}`);
  return text;
}

async function main(opts: GetTaskOptions): Promise<void> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'tasklane-bench-'));
  const servers: ServerProcess[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profiles: { target: string; summary: ProfileSummary }[] = [];
  // Ctrl-C: the servers exit when their IPC channel closes; the 100 MB temp database must go too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(130);
    });
  }
  try {
    log(`Seeding ${opts.tasks.toLocaleString('en-US')} tasks into ${dataDir} …`);
    let shown = 0;
    const seeded = await seedTasks(dataDir, opts.tasks, (done) => {
      if (done - shown >= 20_000 || done === opts.tasks) log(`  ${(shown = done).toLocaleString('en-US')}`);
    });
    log(`  done in ${fmt(seeded.seconds, 1)} s (${fmt(opts.tasks / seeded.seconds, 0)} tasks/s)`);

    const tasklane = await startServerProcess('tasklane', new URL('./servers/tasklane.ts', import.meta.url), {
      env: { BENCH_DATA_DIR: dataDir, BENCH_LOG_LEVEL: opts.logLevel },
    });
    servers.push(tasklane);
    const code = codeVersion(); // now: the build the server just loaded, not one made during the run
    const headers = { authorization: `Bearer ${seeded.rootKey}` };
    const rotation = shuffled(seeded.ids).slice(0, opts.ids === 0 ? undefined : opts.ids);
    const paths = rotation.map((id) => `/v1/tasks/${id}`);

    // The bodies must all be the size the bare route answers with.
    const sample = await Promise.all(paths.slice(0, 50).map((p) => fetchBody(tasklane.url + p, headers)));
    const sizes = sample.map((b) => Buffer.byteLength(b));
    const body = sample[0] as string;
    const bodyBytes = Buffer.byteLength(body);
    if (sizes.some((s) => s !== bodyBytes))
      throw new Error(`Task bodies differ in size (${Math.min(...sizes)}–${Math.max(...sizes)} bytes)`);
    const bodyFile = join(dataDir, 'bare-body.json');
    writeFileSync(bodyFile, body);

    const bare = await startServerProcess('bare', new URL('./servers/bare.ts', import.meta.url), {
      env: { BENCH_BODY_FILE: bodyFile },
    });
    servers.push(bare);
    if ((await fetchBody(bare.url + (paths[0] as string), {})) !== body)
      throw new Error('The bare route answers a different body');
    log(`Body: ${bodyBytes} bytes; GETs rotate over ${paths.length.toLocaleString('en-US')} task ids`);

    let next = 0;
    const settings = (duration: number): LoadSettings => ({
      connections: opts.connections,
      duration,
      headers, // sent to both, so the load generator does the same work for each
      nextPath: () => paths[next++ % paths.length] as string,
    });

    if (opts.warmup > 0) {
      log(`Warm-up: ${opts.warmup} s each`);
      for (const s of [tasklane, bare]) await runLoad(s, settings(opts.warmup), 0);
    }

    log(`Measuring: ${opts.rounds} × ${opts.duration} s each, ${opts.connections} connections, ABBA order`);
    const runs: Record<'tasklane' | 'bare', { results: RunResult[]; samples: LatencySamples[] }> = {
      tasklane: { results: [], samples: [] },
      bare: { results: [], samples: [] },
    };
    const measure = async (s: ServerProcess, i: number) => {
      if (opts.quietWait > 0) await waitForQuiet(MAX_OTHER_CORES, opts.quietWait, log);
      const run = await runLoad(s, settings(opts.duration), i);
      printRun(run.result);
      return run;
    };
    for (let i = 1; i <= opts.rounds; i++) {
      for (const s of i % 2 === 1 ? [tasklane, bare] : [bare, tasklane]) {
        const { result, samples } = await measure(s, i);
        const bucket = runs[s === tasklane ? 'tasklane' : 'bare'];
        bucket.results.push(result);
        bucket.samples.push(samples);
      }
    }

    const t = summarize(runs.tasklane.results, runs.tasklane.samples);
    const b = summarize(runs.bare.results, runs.bare.samples);
    const ratio = t.reqPerSec / b.reqPerSec;
    // The same ratio from server CPU per request, which a busy neighbour disturbs far less.
    const cpuRatio =
      t.serverCpuUsPerRequest === null || b.serverCpuUsPerRequest === null
        ? null
        : b.serverCpuUsPerRequest / t.serverCpuUsPerRequest;
    const p99 = t.latencyMs.p99;

    if (opts.profile) {
      // Extra runs, not in the figures above: the profiler itself costs throughput.
      log(`Profiling: one more ${opts.duration} s run against each, with the V8 profiler on (not in the figures)`);
      mkdirSync(resultsDir, { recursive: true });
      for (const s of [tasklane, bare]) {
        if (opts.quietWait > 0) await waitForQuiet(MAX_OTHER_CORES, opts.quietWait, log);
        const file = join(resultsDir, `get-task-${stamp}-${s.name}.cpuprofile`);
        let requests = 0;
        await s.profile(file, async () => {
          const { result } = await runLoad(s, settings(opts.duration), opts.rounds + 1);
          printRun(result);
          requests = result.requests;
        });
        profiles.push({ target: s.name, summary: summarizeProfile(file, requests) });
      }
    }

    const report = {
      benchmark: 'GET /v1/tasks/{id}',
      date: new Date().toISOString(),
      machine: machineInfo(),
      code,
      options: opts,
      seed: { tasks: opts.tasks, seconds: round(seeded.seconds, 1) },
      bodyBytes,
      idsRotated: paths.length,
      tasklane: t,
      bare: b,
      ratio: round(ratio, 3),
      cpuPerRequestRatio: cpuRatio === null ? null : round(cpuRatio, 3),
      targets: {
        ratio: { atLeast: TARGET_RATIO, measured: round(ratio, 3), met: ratio >= TARGET_RATIO },
        p99: { belowMs: TARGET_P99_MS, measured: round(p99, 2), met: p99 < TARGET_P99_MS },
      },
      runs: [...runs.tasklane.results, ...runs.bare.results].sort((x, y) => x.round - y.round),
      profiles,
    };
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `get-task-${stamp}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

    printSummary(t, b);
    log(
      `  ratio Tasklane/bare: ${fmt(ratio, 3)} (target ≥ ${TARGET_RATIO}: ${report.targets.ratio.met ? 'met' : 'MISSED'})`,
    );
    log(
      `  server CPU per request, bare/Tasklane: ${fmt(cpuRatio, 3)} (the ratio the servers' CPU cost alone predicts)`,
    );
    log(`  Tasklane p99: ${fmt(p99)} ms (target < ${TARGET_P99_MS} ms: ${report.targets.p99.met ? 'met' : 'MISSED'})`);

    const others = Math.max(t.otherCores ?? 0, b.otherCores ?? 0);
    if (others > MAX_OTHER_CORES) {
      log(`  note: other processes used up to ${fmt(others)} cores during the runs; on a quiet machine both figures`);
      log(`        would be higher, and the server CPU per request ratio is the steadier comparison.`);
    }
    if (b.loaderCores >= 0.9) {
      log(`  note: the load generator used ${fmt(b.loaderCores)} cores during the bare runs: the bare figure may be`);
      log(`        bounded by the load generator, in which case the real ratio is lower than shown.`);
    }
    for (const p of profiles) log(`\n${formatProfileSummary(`CPU profile of the ${p.target} server`, p.summary)}`);
    log(`\nWritten: ${file}`);
  } finally {
    for (const s of servers.reverse()) await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const options = readOptions(process.argv.slice(2), process.env);
const exitCode = await runInOwnSchedulingGroup(options.nice, log);
if (exitCode === null) await main(options);
else process.exitCode = exitCode;
