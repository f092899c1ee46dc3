/**
 * Reads a V8 CPU profile (.cpuprofile) of a server process and says where its busy time
 * went: by area (Tasklane's own layers, each npm package, Node core, GC) and by function, both
 * self time and inclusive time. Idle time is left out of every percentage.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  percent: number;
  /** CPU microseconds per request served while the profiler ran. */
  usPerRequest: number;
}

export interface ProfileSummary {
  file: string;
  requests: number;
  busyMs: number;
  idleMs: number;
  byArea: Share[];
  topSelf: Share[];
  topInclusive: Share[];
}

const SPECIAL = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const pkg = url.indexOf('/packages/');
  if (pkg >= 0) return url.slice(pkg + '/packages/'.length);
  return url.replace(/^file:\/\//, '');
}

function area(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') return SPECIAL.has(functionName) ? functionName : 'native / V8 builtins';
  const nm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nm !== null) return `npm: ${nm[1]}`;
  const own = /\/packages\/server\/dist\/([^/]+)\//.exec(url);
  if (own !== null) return `tasklane: ${own[1]}`;
  if (url.includes('/packages/')) return 'tasklane: other';
  if (url.startsWith('node:')) return 'node core';
  return 'other';
}

const frameName = (f: ProfileNode['callFrame']) =>
  f.url === '' ? f.functionName : `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;

function top(totals: Map<string, number>, busyMs: number, requests: number, n: number): Share[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({
      name,
      ms: Math.round(ms),
      percent: Math.round((ms / busyMs) * 1000) / 10,
      usPerRequest: Math.round((ms * 10_000) / requests) / 10,
    }));
}

/** `requests`: how many requests the process served while profiled (for the per-request figures). */
export function summarizeProfile(file: string, requests: number, n = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areas = new Map<string, number>();
  let busyMs = 0;
  let idleMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (node === undefined) return;
    if (node.callFrame.functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    busyMs += ms;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + ms);
    const a = area(node.callFrame);
    areas.set(a, (areas.get(a) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (frame === undefined || SPECIAL.has(frame.functionName)) continue;
      const key = frameName(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
    }
  });
  return {
    file,
    requests,
    busyMs: Math.round(busyMs),
    idleMs: Math.round(idleMs),
    byArea: top(areas, busyMs, requests, 30),
    topSelf: top(self, busyMs, requests, n),
    topInclusive: top(inclusive, busyMs, requests, n),
  };
}

export function formatProfileSummary(title: string, p: ProfileSummary): string {
  const rows = (heading: string, shares: Share[]) =>
    [
      `${heading}   (% of busy time, CPU µs per request)`,
      ...shares.map(
        (s) => `  ${s.percent.toFixed(1).padStart(5)}% ${s.usPerRequest.toFixed(1).padStart(7)} µs  ${s.name}`,
      ),
    ].join('\n');
  return [
    `${title}: ${p.file}`,
    `busy ${(p.busyMs / 1000).toFixed(1)} s, idle ${(p.idleMs / 1000).toFixed(1)} s, ${p.requests} requests: ` +
      `${((p.busyMs * 1000) / p.requests).toFixed(1)} CPU µs per request on the main thread`,
    rows('By area (self time):', p.byArea),
    rows('Top functions, self time:', p.topSelf),
    rows('Top functions, inclusive time:', p.topInclusive),
  ].join('\n\n');
}
