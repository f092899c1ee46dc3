/**
 * What the dashboard's browser suites share: Debian's Chromium, launched headless with the flags
 * that keep it off the network, and the rule for a machine without it (the suite is reported as
 * skipped, by name, instead of failing; `.ci/run` installs Chromium so CI always runs them).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { describe, it } from 'vitest';
import { SERVER_MAIN } from '../scripts/test-server.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DASHBOARD_BUILD = new URL('../dist/index.html', import.meta.url);

/** Registers `suite` when Chromium is there (and the build too); else one skipped suite named `name`. */
export function browserSuite(name: string, suite: () => void): void {
  if (!existsSync(CHROMIUM)) {
    const skipped = `${name} skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`;
    console.warn(skipped);
    describe.skip(skipped, () => {
      it('needs Chromium', () => undefined);
    });
    return;
  }
  if (!existsSync(SERVER_MAIN) || !existsSync(DASHBOARD_BUILD)) {
    throw new Error('Build first: `npm run build` (the browser tests serve the built server and dashboard).');
  }
  suite();
}

/** Headless, as root in a sandbox, and without the background requests Chromium makes at start. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
