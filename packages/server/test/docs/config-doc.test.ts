/**
 * The repository's docs are enough on their own: README's configuration table names every variable
 * the server reads (the dialects' own in docs/dialects.md too), and no doc links to a file outside
 * the repository or to one that does not exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV } from '../../src/config/config.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

/** The text under `## heading`, up to the next `## ` heading. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start === -1) return '';
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** Names of environment variables in the first column that holds one, row by row. */
const tableVariables = (text: string) => [...text.matchAll(/^\|[^\n]*?`(TASKLANE_[A-Z_]+)`/gm)].map((m) => m[1]);

describe('configuration docs', () => {
  const variables = Object.keys(CONFIG_ENV);

  it("README's configuration table has a row for every variable the server reads", () => {
    const documented = tableVariables(section(read('README.md'), 'Configuration'));
    expect(variables.filter((v) => !documented.includes(v))).toEqual([]);
  });

  it("docs/dialects.md's configuration has a row for every dialect variable", () => {
    const dialectVariables = variables.filter((v) => /MINDFORT|CAPY|CONDUCTOR|QUANT|GUARDIAN/.test(v));
    expect(dialectVariables).not.toEqual([]);
    const documented = tableVariables(section(read('docs/dialects.md'), 'Configuration'));
    expect(dialectVariables.filter((v) => !documented.includes(v))).toEqual([]);
  });
});

describe('links between docs', () => {
  const files = [
    'README.md',
    ...readdirSync(join(REPO, 'docs')).flatMap((f) => (f.endsWith('.md') ? [`docs/${f}`] : [])),
  ];

  it.each(files)('%s links only to files of the repository that exist', (file) => {
    const text = read(file).replace(/```[\s\S]*?```/g, '');
    const bad = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1] ?? '')
      .filter((href) => !/^(https?:|mailto:|#)/.test(href))
      .filter((href) => {
        const target = resolve(REPO, dirname(file), href.split('#')[0] ?? '');
        return relative(REPO, target).startsWith('..') || !existsSync(target);
      });
    expect(bad).toEqual([]);
  });
});
