/**
 * The size budget the build enforces (scripts/check-budget.mjs, run by `npm run build`): passes
 * within it, fails the build above it, and the real build is within it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BUDGET_BYTES, checkBudget } from '../scripts/check-budget.mjs';

const SCRIPT = fileURLToPath(new URL('../scripts/check-budget.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../dist', import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A build folder with `kb` KB of incompressible JS (random bytes gzip to about themselves). */
function fakeBuild(kb: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-budget-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'index-abc.js'), randomBytes(kb * 1024).toString('base64'));
  writeFileSync(join(dir, 'assets', 'index-abc.css'), 'body{margin:0}');
  writeFileSync(join(dir, 'assets', 'logo.png'), randomBytes(400 * 1024)); // not JS or CSS: not counted
  return dir;
}

const run = (args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(process.execPath, [SCRIPT, ...args], (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : Number(err.code), out: stdout + stderr }),
    ),
  );

describe('the dashboard size budget', () => {
  it('is 150 KB of gzipped JS and CSS', () => {
    expect(BUDGET_BYTES).toBe(150 * 1024);
  });

  it('passes a build within it and fails one above it, naming the total', async () => {
    const small = fakeBuild(40);
    expect(checkBudget(small).ok).toBe(true);
    const ok = await run([small]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/total JS\+CSS, gzipped: \d+\.\d KB of a 150\.0 KB budget/);

    const big = fakeBuild(150); // base64 of 150 KB random: ~200 KB, gzipped well above 150 KB
    expect(checkBudget(big).ok).toBe(false);
    const over = await run([big]);
    expect(over.code).toBe(1);
    expect(over.out).toContain('OVER BUDGET');
  });

  it('fails a folder with no JS or CSS at all (a build that went elsewhere)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tasklane-budget-'));
    dirs.push(empty);
    expect((await run([empty])).code).toBe(1);
  });

  const built = existsSync(DIST);
  it.skipIf(!built)(
    'the current build is within it' +
      (built ? '' : ' (skipped: the dashboard is not built; `npm test` builds it first)'),
    () => {
      const { ok, total } = checkBudget(DIST);
      expect(ok).toBe(true);
      expect(total).toBeGreaterThan(10 * 1024);
    },
  );
});
