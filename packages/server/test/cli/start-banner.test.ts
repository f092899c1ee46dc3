/**
 * The start banner's root key lines for a TASKLANE_ROOT_KEY the database does not take as a root
 * key: each case said plainly, the recovery command named, and the key itself never printed (the
 * banner is never given it).
 */
import { describe, expect, test } from 'vitest';
import { startBanner } from '../../src/cli/start-banner.js';
import type { GivenRootKey } from '../../src/service/auth-service.js';

const banner = (state: GivenRootKey) =>
  startBanner({
    url: 'http://127.0.0.1:8080',
    storage: 'sqlite:data/tasklane.db',
    rootKey: { origin: 'environment', state },
    logLevel: 'info',
  });

describe('the start banner and TASKLANE_ROOT_KEY', () => {
  test('a valid key: one line, no alarm', () => {
    expect(banner('valid')).toContain('Root key: taken from TASKLANE_ROOT_KEY (not printed).');
    expect(banner('valid')).not.toContain('reset-root');
  });

  test.each([
    ['revoked', 'is revoked in this database: requests with it answer 401.'],
    ['expired', 'has expired in this database: requests with it answer 401.'],
    ['unknown', 'is not a key of this database (which has its own root key): requests with it answer 401.'],
    ['not-root', 'is a key of this database without the root scope: it cannot create orgs.'],
  ] as const)('%s: says so, and names tasklane keys reset-root', (state, says) => {
    const text = banner(state);
    expect(text).toContain(`Root key: TASKLANE_ROOT_KEY (not printed) ${says}`);
    expect(text).toContain("run 'tasklane keys reset-root'");
    expect(text).not.toContain('taken from TASKLANE_ROOT_KEY');
    // Still the first line scripts wait for.
    expect(text.split('\n')[1]).toMatch(/^Tasklane listening on /);
  });
});
