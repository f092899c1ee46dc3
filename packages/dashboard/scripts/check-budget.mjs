#!/usr/bin/env node
/* global process */
// The dashboard's size budget: every JS and CSS file of the build, gzipped, added up, must stay
// within BUDGET_BYTES; above it the build fails. `node scripts/check-budget.mjs DIST [BUDGET_KB]`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

export const BUDGET_BYTES = 150 * 1024;

/** Every .js and .css file under `dir`, with its raw and gzipped size. */
export function measure(dir) {
  const files = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(m?js|css)$/.test(name)) {
        const data = readFileSync(path);
        files.push({ file: relative(dir, path), raw: data.length, gzip: gzipSync(data, { level: 9 }).length });
      }
    }
  };
  walk(dir);
  files.sort((a, b) => b.gzip - a.gzip);
  return { files, total: files.reduce((n, f) => n + f.gzip, 0) };
}

/** The report, and whether the build is within `budget` bytes. */
export function checkBudget(dir, budget = BUDGET_BYTES) {
  const { files, total } = measure(dir);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const lines = files.map((f) => `  ${f.file.padEnd(44)} ${kb(f.raw).padStart(10)} ${kb(f.gzip).padStart(10)} gzip`);
  const ok = files.length > 0 && total <= budget;
  lines.push(`  total JS+CSS, gzipped: ${kb(total)} of a ${kb(budget)} budget${ok ? '' : ' — OVER BUDGET'}`);
  if (files.length === 0) lines.push('  no JS or CSS found: is this the build folder?');
  return { ok, total, report: lines.join('\n') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? 'dist';
  const budget = process.argv[3] === undefined ? BUDGET_BYTES : Number(process.argv[3]) * 1024;
  const { ok, report } = checkBudget(dir, budget);
  process.stdout.write(`Dashboard bundle size:\n${report}\n`);
  if (!ok) {
    process.stderr.write('The dashboard is over its size budget (packages/dashboard/scripts/check-budget.mjs).\n');
    process.exit(1);
  }
}
