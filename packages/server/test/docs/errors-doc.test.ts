/** docs/errors.md documents the error catalogue: one `### CODE` section per code, no more, no fewer. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/domain/errors.js';

const DOC = fileURLToPath(new URL('../../../../docs/errors.md', import.meta.url));
const CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** The text of each `### CODE` section, by code. */
function sections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | null = null;
  for (const line of markdown.split('\n')) {
    const heading = /^### ([A-Z][A-Z0-9_]*)\s*$/.exec(line);
    if (heading?.[1] !== undefined) {
      current = heading[1];
      if (out.has(current)) throw new Error(`docs/errors.md has two sections for ${current}`);
      out.set(current, '');
    } else if (/^#{1,3} /.test(line)) {
      current = null;
    } else if (current !== null) {
      out.set(current, `${out.get(current) ?? ''}${line}\n`);
    }
  }
  return out;
}

describe('docs/errors.md', () => {
  const doc = sections(readFileSync(DOC, 'utf8'));

  it('has a section for every code of ERROR_CATALOGUE', () => {
    const missing = CODES.filter((c) => !doc.has(c));
    expect(missing, `add a "### CODE" section to docs/errors.md for: ${missing.join(', ')}`).toEqual([]);
  });

  it('lists no code that the catalogue does not have', () => {
    const extra = [...doc.keys()].filter((c) => !(c in ERROR_CATALOGUE));
    expect(extra, `docs/errors.md documents codes that are not in ERROR_CATALOGUE: ${extra.join(', ')}`).toEqual([]);
  });

  it('gives each code the HTTP status of the catalogue', () => {
    const wrong = CODES.filter(
      (c) => doc.has(c) && !new RegExp(`\\b${ERROR_CATALOGUE[c].status}\\b`).test(doc.get(c) ?? ''),
    );
    expect(wrong, `the section of these codes does not state the catalogue's status: ${wrong.join(', ')}`).toEqual([]);
  });
});
