/** docs/lifecycle.md is generated from TRANSITIONS; this keeps the committed page equal to the generator's output. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LIFECYCLE_DOC_PATH, renderLifecycle } from '../../scripts/gen-lifecycle.js';
import { TERMINAL_STATUSES } from '../../src/domain/status.js';
import { TRANSITIONS, TRANSITION_NAMES } from '../../src/domain/transitions.js';

const REGENERATE =
  'docs/lifecycle.md is out of date: run `npx tsx packages/server/scripts/gen-lifecycle.ts` and commit the result';

describe('docs/lifecycle.md', () => {
  it('is exactly what the generator renders from TRANSITIONS', () => {
    let onDisk: string;
    try {
      onDisk = readFileSync(LIFECYCLE_DOC_PATH, 'utf8');
    } catch {
      throw new Error(`docs/lifecycle.md is missing: run \`npx tsx packages/server/scripts/gen-lifecycle.ts\``);
    }
    expect(onDisk, REGENERATE).toBe(renderLifecycle());
  });

  it('draws one arrow per event and pair of statuses, and ends every terminal status', () => {
    const page = renderLifecycle();
    const arrows = page.split('\n').filter((l) => l.includes(' --> ') && l.includes(' : '));
    const expected = TRANSITION_NAMES.flatMap((name) =>
      (TRANSITIONS[name].from as readonly string[]).flatMap((from) =>
        (TRANSITIONS[name].to as readonly string[]).map((to) => `${from === 'new' ? '[*]' : from} --> ${to} : ${name}`),
      ),
    );
    expect(arrows.map((l) => l.trim())).toEqual(expected);
    for (const s of TERMINAL_STATUSES) expect(page).toContain(`    ${s} --> [*]\n`);
    for (const name of TRANSITION_NAMES) expect(page).toContain(`| \`${name}\``);
  });
});
