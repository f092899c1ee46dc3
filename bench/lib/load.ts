/** One load run with autocannon against one server process, with CPU and exact latency figures. */
import autocannon from 'autocannon';
import { coresBetween, machineCpu } from './machine-cpu.js';
import type { ServerProcess } from './server-process.js';
import { LatencySamples, type LatencySummary } from './stats.js';

export interface LoadSettings {
  connections: number;
  duration: number;
  headers: Record<string, string>;
  /** The next request path; called once per request, shared by all connections. */
  nextPath: () => string;
}

export interface RunResult {
  target: string;
  round: number;
  seconds: number;
  requests: number;
  reqPerSec: number;
  latencyMs: LatencySummary;
  /** Whole response (status line + headers + body), as autocannon counted it. */
  bytesPerResponse: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Cores busy during the run: 1.0 = one core flat out. */
  serverCores: number | null;
  /** Server CPU time (all its threads) per request served: the figure a busy neighbour moves least. */
  serverCpuUsPerRequest: number | null;
  loaderCores: number;
  /** Cores used by every other process on the machine meanwhile (noise), and stolen by the hypervisor. */
  otherCores: number | null;
  stealCores: number | null;
}

export async function runLoad(
  server: ServerProcess,
  settings: LoadSettings,
  round: number,
): Promise<{ result: RunResult; samples: LatencySamples }> {
  const samples = new LatencySamples();
  const serverCpu0 = server.cpuSeconds();
  const loaderCpu0 = process.cpuUsage();
  const machine0 = machineCpu();
  const wall0 = performance.now();
  const instance = autocannon({
    url: server.url,
    connections: settings.connections,
    duration: settings.duration,
    headers: settings.headers,
    requests: [
      { method: 'GET', path: settings.nextPath(), setupRequest: (req) => ({ ...req, path: settings.nextPath() }) },
    ],
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => samples.push(ms));
  const r = await instance;
  const wall = (performance.now() - wall0) / 1000;
  const serverCpu1 = server.cpuSeconds();
  const loaderCpu = process.cpuUsage(loaderCpu0);
  const machine = coresBetween(machine0, machineCpu());
  const requests = r.requests.total;
  const serverCores = serverCpu0 === null || serverCpu1 === null ? null : (serverCpu1 - serverCpu0) / wall;
  const loaderCores = (loaderCpu.user + loaderCpu.system) / 1e6 / wall;
  return {
    samples,
    result: {
      target: server.name,
      round,
      seconds: r.duration,
      requests,
      reqPerSec: requests / r.duration,
      latencyMs: samples.summary(),
      bytesPerResponse: requests === 0 ? 0 : r.throughput.total / requests,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      serverCores,
      serverCpuUsPerRequest: serverCores === null || requests === 0 ? null : (serverCores * wall * 1e6) / requests,
      loaderCores,
      otherCores:
        machine === null || serverCores === null ? null : Math.max(0, machine.busy - serverCores - loaderCores),
      stealCores: machine?.steal ?? null,
    },
  };
}
