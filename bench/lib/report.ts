/** Summaries of the measured runs, the result table, and what the result file says about the run. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult } from './load.js';
import { LatencySamples, round, type LatencySummary } from './stats.js';

export const log = (line: string) => process.stderr.write(`${line}\n`);

export const fmt = (n: number | null, digits = 2) => (n === null ? 'n/a' : round(n, digits).toLocaleString('en-US'));

export interface TargetSummary {
  reqPerSec: number;
  /** All measured runs of the target pooled. */
  latencyMs: LatencySummary;
  worstRunP99Ms: number;
  bytesPerResponse: number;
  serverCores: number | null;
  serverCpuUsPerRequest: number | null;
  loaderCores: number;
  otherCores: number | null;
}

export function summarize(runs: RunResult[], samples: LatencySamples[]): TargetSummary {
  const pooled = new LatencySamples();
  for (const s of samples) pooled.append(s);
  const mean = (f: (r: RunResult) => number) => runs.reduce((sum, r) => sum + f(r), 0) / runs.length;
  const meanOrNull = (f: (r: RunResult) => number | null) =>
    runs.some((r) => f(r) === null) ? null : mean((r) => f(r) ?? 0);
  return {
    reqPerSec: mean((r) => r.reqPerSec),
    latencyMs: pooled.summary(),
    worstRunP99Ms: Math.max(...runs.map((r) => r.latencyMs.p99)),
    bytesPerResponse: mean((r) => r.bytesPerResponse),
    serverCores: meanOrNull((r) => r.serverCores),
    serverCpuUsPerRequest: meanOrNull((r) => r.serverCpuUsPerRequest),
    loaderCores: mean((r) => r.loaderCores),
    otherCores: meanOrNull((r) => r.otherCores),
  };
}

export function printRun(r: RunResult): void {
  const l = r.latencyMs;
  log(
    `  ${r.target.padEnd(8)} round ${r.round}: ${fmt(r.reqPerSec, 0)} req/s, p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms, ` +
      `max ${fmt(l.max)} ms; server ${fmt(r.serverCpuUsPerRequest, 0)} µs CPU/request; cores: server ${fmt(r.serverCores)}, loader ${fmt(r.loaderCores)}, others ${fmt(r.otherCores)}, steal ${fmt(r.stealCores)}`,
  );
  if (r.non2xx + r.errors + r.timeouts > 0) {
    throw new Error(
      `${r.target}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts; the figures would be wrong`,
    );
  }
}

/** The side-by-side table of the two targets. */
export function printSummary(t: TargetSummary, b: TargetSummary): void {
  log('');
  log(
    `                 req/s      p50 ms   p99 ms   bytes/response   server µs/req   server cores   loader cores   other cores`,
  );
  for (const [name, s] of [
    ['Tasklane', t],
    ['bare', b],
  ] as const) {
    log(
      `  ${name.padEnd(10)} ${fmt(s.reqPerSec, 0).padStart(10)} ${fmt(s.latencyMs.p50).padStart(9)} ${fmt(s.latencyMs.p99).padStart(8)}` +
        ` ${fmt(s.bytesPerResponse, 0).padStart(16)} ${fmt(s.serverCpuUsPerRequest, 1).padStart(15)} ${fmt(s.serverCores).padStart(14)} ${fmt(s.loaderCores).padStart(14)}` +
        ` ${fmt(s.otherCores).padStart(13)}`,
    );
  }
}

/**
 * Which code was measured: HEAD, whether the sources differed from it, and when the measured build
 * (packages/server/dist) was written, since that, not HEAD, is what ran.
 */
export function codeVersion(): { commit: string; sourcesModified: boolean; serverBuiltAt: string } | null {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
    // tsc -b rewrites only the files that changed, so the newest file is the build's time.
    const dist = fileURLToPath(new URL('../../packages/server/dist/', import.meta.url));
    const built = Math.max(
      ...readdirSync(dist, { recursive: true }).map((f) => statSync(join(dist, String(f))).mtimeMs),
    );
    return {
      commit: git('rev-parse', 'HEAD'),
      sourcesModified: git('status', '--porcelain', 'packages/server/src', 'packages/sdk/src') !== '',
      serverBuiltAt: new Date(built).toISOString(),
    };
  } catch {
    return null;
  }
}

export const readOrNull = (path: string) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
};
/** The machine the figures were measured on. */
export function machineInfo() {
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    schedulingGroup: readOrNull('/proc/self/autogroup'),
  };
}
