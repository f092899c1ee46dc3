/**
 * The org's lock on PostgreSQL, where units of work run at once: lockOrg makes another node's unit
 * wait for it (seen in pg_stat_activity, not guessed from time), and the waiter then reads what the
 * holder committed; so revocations racing on several nodes never leave an org without an admin key.
 * Runs when TASKLANE_TEST_PG_URL names a server; skipped, loudly, otherwise.
 */
import { describe, expect, it } from 'vitest';
import { TasklaneError } from '../../../src/domain/errors.js';
import { createServices, type Services } from '../../../src/service/services.js';
import type { Principal } from '../../../src/service/principal.js';
import { insertOrgs, pgSuite } from '../../helpers/pg.js';
import { ORG_A, T0 } from '../../helpers/task-factory.js';

/** Resolves when `check` holds, polling; fails after `ms`. */
async function until(check: () => Promise<boolean>, ms = 5_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

pgSuite('org lock', (fresh) => {
  describe('postgres: the org lock across nodes', () => {
    it("a unit on another node waits at lockOrg until the holder commits, then reads the holder's writes", async () => {
      const a = await fresh();
      const b = await fresh({ schema: a.schema, migrate: false });
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      try {
        await insertOrgs(a.store);
        const key = (id: string) => ({
          id,
          orgId: ORG_A,
          name: id,
          scopes: ['admin' as const],
          hash: id.padEnd(64, '0'),
          createdAt: T0,
          expiresAt: null,
          revokedAt: null,
        });
        await a.store.write(async (tx) => {
          await tx.insertKey(key('k1'));
          await tx.insertKey(key('k2'));
        });
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holder = a.store.write(async (tx) => {
          await tx.lockOrg(ORG_A);
          locked();
          await held;
          return tx.revokeKey(ORG_A, 'k1', T0 + 1);
        });
        await isLocked;
        let passed = false;
        const waiter = b.store.write(async (tx) => {
          await tx.lockOrg(ORG_A);
          passed = true;
          return (await tx.listKeys(ORG_A)).filter((k) => k.revokedAt === null).map((k) => k.id);
        });
        // The waiter's backend is seen waiting for a lock: it has asked, and been made to wait.
        await until(
          async () =>
            (
              await fresh.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM pg_stat_activity
                  WHERE application_name = $1 AND wait_event_type = 'Lock'`,
                [`tasklane/${a.schema}`],
              )
            )[0]?.n === 1,
          5_000,
          'the second unit to wait for the lock',
        );
        expect(passed).toBe(false);
        release();
        expect(await holder).toBe(true);
        expect(await waiter).toEqual(['k2']);
      } finally {
        release(); // a failed test must not leave the holder open: cleanup waits for it
        await Promise.all([a.cleanup(), b.cleanup()]);
      }
    });

    it('admins revoking each other at once, through two nodes, always leave their org one admin key', async () => {
      const a = await fresh();
      const b = await fresh({ schema: a.schema, migrate: false });
      const nodes: Services[] = [a, b].map((n) => createServices(n.store, { clock: n.clock }));
      const [one, two] = nodes as [Services, Services];
      try {
        const ADMINS = 4;
        for (let round = 0; round < 10; round++) {
          // An org with ADMINS admin keys, each about to revoke the next one (a ring), all at once.
          const { org, adminKey } = await one.auth.createOrg({ id: `race-${round}`, name: 'Race' });
          const secrets = [adminKey.secret];
          const asOrg: Principal = { orgId: org.id, keyId: adminKey.key.id, keyName: 'admin', scopes: ['admin'] };
          for (let i = 1; i < ADMINS; i++) {
            secrets.push((await one.auth.createKey(asOrg, { name: `admin-${i}`, scopes: ['admin'] })).secret);
          }
          const callers = await Promise.all(secrets.map((s) => one.auth.authenticate(s)));
          const outcomes = await Promise.allSettled(
            callers.map((caller, i) => {
              const target = callers[(i + 1) % ADMINS];
              if (caller === null || target === null || target === undefined) throw new Error('keys must work');
              return (i % 2 === 0 ? one : two).auth.revokeKey(caller, target.keyId);
            }),
          );
          const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
          expect(refused.map((e) => (e instanceof TasklaneError ? e.code : String(e)))).toEqual(['LAST_ADMIN_KEY']);
          const live = (await one.auth.listKeys(org.id)).filter((k) => k.revokedAt === null);
          expect(live).toHaveLength(1);
        }
      } finally {
        await Promise.all([a.cleanup(), b.cleanup()]);
      }
    });
  });
});
