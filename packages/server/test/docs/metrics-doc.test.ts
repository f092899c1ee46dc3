/**
 * docs/metrics.md lists every metric /metrics exposes, with its type, and nothing else: the table's
 * names are the registry's, prom-client's default process metrics (`tasklane_process_*`,
 * `tasklane_nodejs_*`, described as a group on the page) aside.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeHarness, type Harness } from '../helpers/http-harness.js';
import { Scrape } from '../helpers/metrics-text.js';

const DOC = fileURLToPath(new URL('../../../../docs/metrics.md', import.meta.url));
const DEFAULTS = /^tasklane_(process|nodejs)_/;

/** `| \`name\` | type | …` rows of the page's tables. */
const documented = (): Map<string, string> =>
  new Map([...readFileSync(DOC, 'utf8').matchAll(/^\| `(tasklane_[a-z_]+)` +\| (\w+) /gm)].map((m) => [m[1]!, m[2]!]));

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(() => h.cleanup());

it('names every metric /metrics exposes, with its type, and no other', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  const s = new Scrape(res.body);
  const exposed = new Map(
    [...s.families.values()].filter((f) => !DEFAULTS.test(f.name)).map((f) => [f.name, f.type.toLowerCase()]),
  );
  const doc = documented();
  expect([...doc.keys()].sort()).toEqual([...exposed.keys()].sort());
  expect(doc).toEqual(exposed);
  // The defaults the page describes as a group are there.
  expect([...s.families.keys()].filter((n) => DEFAULTS.test(n)).length).toBeGreaterThan(10);
});
