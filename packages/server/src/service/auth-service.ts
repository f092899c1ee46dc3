/** Orgs and API keys (SPEC §8): bootstrap, authentication, key management. */
import { systemClock, type Clock } from '../domain/clock.js';
import { TasklaneError } from '../domain/errors.js';
import type { ApiKey } from '../domain/api-key.js';
import { NO_ORG_DEFAULTS, type Org } from '../domain/org.js';
import type { Scope } from '../domain/scope.js';
import type { TaskStore } from '../storage/task-store.js';
import { KEY_PATTERN, newKeyId, newKeySecret, sha256Hex } from './ids.js';
import { hasScope, type Principal } from './principal.js';

export const DEFAULT_ORG_ID = 'default';

export interface CreatedKey {
  key: ApiKey;
  /** The secret, shown once. */
  secret: string;
}

export interface BootstrapResult {
  /** The root key's secret when this start created it (empty database), else null. */
  rootKey: string | null;
  /** What the database says of the root key given to bootstrap (TASKLANE_ROOT_KEY); null: none given. */
  given: GivenRootKey | null;
}

/**
 * A given root key, as the database knows it: `valid` (a live root key), `revoked`, `expired`,
 * `unknown` (no key of this database), or `not-root` (a key of it without the root scope).
 */
export type GivenRootKey = 'valid' | 'revoked' | 'expired' | 'unknown' | 'not-root';

export interface ResetRootResult {
  /** The new root key of org `default`, with its secret (shown once). */
  created: CreatedKey;
  /** The root keys the reset revoked. */
  revoked: ApiKey[];
}

/** How long a verified key is trusted without asking storage again (single-node stores only). */
const KEY_CACHE_MS = 5_000;
const KEY_CACHE_MAX = 10_000;

export class AuthService {
  /**
   * Keys recently found valid, by hash. Only on a single-node store, where keys change through this
   * process: revoking here drops the entry at once, so revocation stays immediate. (The one other
   * writer of keys, `tasklane keys reset-root` beside a running server, is taken up within
   * KEY_CACHE_MS; README says so.) With several nodes, every request asks storage. Expiry is checked
   * on every use either way.
   */
  private readonly cache: Map<string, { key: ApiKey; until: number }> | null;

  constructor(
    private readonly store: TaskStore,
    private readonly clock: Clock = systemClock,
  ) {
    this.cache = store.capabilities.multiNode ? null : new Map();
  }

  /**
   * First start on an empty database: org `default` and a root key (`rootKey` if given, else a new
   * one). On a database that has orgs, a given `rootKey` is only checked, never added: a key that
   * an environment variable could slip into any database would be a second, silent way to root
   * beside `resetRoot`, one that revokes nothing. The caller tells the operator what was found.
   */
  async bootstrap(rootKey?: string): Promise<BootstrapResult> {
    if (rootKey !== undefined && !KEY_PATTERN.test(rootKey)) {
      throw new Error('TASKLANE_ROOT_KEY must be tl_ followed by at least 32 letters and digits');
    }
    return this.store.write(async (tx) => {
      if ((await tx.countOrgs()) === 0) {
        await tx.insertOrg({ id: DEFAULT_ORG_ID, name: 'Default', createdAt: tx.now });
        const secret = rootKey ?? newKeySecret();
        await tx.insertKey(this.keyRecord(DEFAULT_ORG_ID, 'root', ['root', 'admin'], secret, tx.now, null));
        return { rootKey: secret, given: rootKey === undefined ? null : 'valid' };
      }
      if (rootKey === undefined) return { rootKey: null, given: null };
      return { rootKey: null, given: givenRootKey(await tx.findKeyByHash(sha256Hex(rootKey)), tx.now) };
    });
  }

  /**
   * The operator's way back in when the root key is lost or revoked (`tasklane keys reset-root`,
   * run on the database itself, since no key is needed): a new root key (root + admin) for org
   * `default`, and every root key the org still had is revoked in the same unit. A root key is
   * reset because it is lost or may have leaked, and a lost key can be found: one left working
   * would defeat the reset. Admin keys without root stay. Under the org's lock, like revocations.
   */
  async resetRoot(): Promise<ResetRootResult> {
    const result = await this.store.write(async (tx) => {
      if ((await tx.lockOrg(DEFAULT_ORG_ID)) === null) {
        throw new TasklaneError(
          'NOT_FOUND',
          `This database has no org '${DEFAULT_ORG_ID}': is it the one 'tasklane serve' uses? ` +
            '(On an empty database, the first start of the server creates the root key.)',
        );
      }
      const old = (await tx.listKeys(DEFAULT_ORG_ID)).filter((k) => k.revokedAt === null && k.scopes.includes('root'));
      const secret = newKeySecret();
      const key = this.keyRecord(DEFAULT_ORG_ID, 'root', ['root', 'admin'], secret, tx.now, null);
      await tx.insertKey(key);
      for (const k of old) await tx.revokeKey(DEFAULT_ORG_ID, k.id, tx.now);
      return { created: { key, secret }, revoked: old.map((k) => ({ ...k, revokedAt: tx.now })) };
    });
    for (const k of result.revoked) this.forget(k.id);
    return result;
  }

  /**
   * The principal of a bearer secret, or null. Missing, malformed, unknown, revoked and expired
   * keys are all the same null: the caller answers one identical 401.
   */
  async authenticate(secret: string | undefined): Promise<Principal | null> {
    if (secret === undefined || !KEY_PATTERN.test(secret)) return null;
    const hash = sha256Hex(secret);
    const now = this.clock.now();
    const cached = this.cache?.get(hash);
    let key: ApiKey | null;
    if (cached !== undefined && cached.until > now) {
      key = cached.key;
    } else {
      key = await this.store.findKeyByHash(hash);
      if (this.cache !== null) {
        if (this.cache.size >= KEY_CACHE_MAX) this.cache.clear();
        if (key !== null && key.revokedAt === null) this.cache.set(hash, { key, until: now + KEY_CACHE_MS });
        else this.cache.delete(hash);
      }
    }
    if (key === null || key.revokedAt !== null || expired(key, now)) return null;
    return { orgId: key.orgId, keyId: key.id, keyName: key.name, scopes: key.scopes };
  }

  async createOrg(input: { id: string; name: string }): Promise<{ org: Org; adminKey: CreatedKey }> {
    return this.store.write(async (tx) => {
      if ((await tx.getOrg(input.id)) !== null) {
        throw new TasklaneError('CONFLICT', `An org with id '${input.id}' exists.`);
      }
      const org: Org = { id: input.id, name: input.name, createdAt: tx.now, defaults: NO_ORG_DEFAULTS };
      await tx.insertOrg(org);
      const secret = newKeySecret();
      const key = this.keyRecord(org.id, 'admin', ['admin'], secret, tx.now, null);
      await tx.insertKey(key);
      return { org, adminKey: { key, secret } };
    });
  }

  async createKey(
    caller: Principal,
    input: { name: string; scopes: Scope[]; expiresAt?: number | undefined },
  ): Promise<CreatedKey> {
    // A key can only hand out what it holds: nobody mints `root` but root.
    if (input.scopes.includes('root') && !caller.scopes.includes('root')) {
      throw new TasklaneError('FORBIDDEN', 'Only a root key can create a root key.');
    }
    return this.store.write(async (tx) => {
      if (input.expiresAt !== undefined && input.expiresAt <= tx.now) {
        throw new TasklaneError('VALIDATION_FAILED', 'expiresAt must be in the future.', {
          errors: [{ path: '/expiresAt', message: 'must be in the future' }],
        });
      }
      const secret = newKeySecret();
      const key = this.keyRecord(caller.orgId, input.name, input.scopes, secret, tx.now, input.expiresAt ?? null);
      await tx.insertKey(key);
      return { key, secret };
    });
  }

  listKeys(orgId: string): Promise<ApiKey[]> {
    return this.store.read((tx) => tx.listKeys(orgId));
  }

  /**
   * Revoke a key of the caller's org, at once. Two rules keep an org from locking itself out, since
   * nothing but an admin key makes keys: a key may not revoke itself (KEY_IS_CALLER), and the org's
   * last usable admin key (one holding `admin`, or `root`, which implies it; not revoked, not
   * expired) may not be revoked (LAST_ADMIN_KEY).
   */
  async revokeKey(caller: Principal, keyId: string): Promise<void> {
    if (keyId === caller.keyId) {
      throw new TasklaneError('KEY_IS_CALLER', 'A key cannot revoke itself; revoke it with another admin key.');
    }
    const orgId = caller.orgId;
    await this.store.write(async (tx) => {
      // What makes the count below safe is the org's lock, taken before the keys are read: every
      // revocation in the org passes it one at a time, and each sees what the one before committed.
      // (SQLite: the unit holds the database's write lock from BEGIN IMMEDIATE. PostgreSQL: the org's
      // row FOR UPDATE; at READ COMMITTED the listKeys after it sees the revocation it waited for.)
      // Without it, two admins revoking each other's keys at once would each count the other and
      // leave the org with none.
      await tx.lockOrg(orgId);
      const keys = await tx.listKeys(orgId);
      const target = keys.find((k) => k.id === keyId && k.revokedAt === null);
      if (target === undefined) throw new TasklaneError('NOT_FOUND', 'No such key.');
      const administers = (k: ApiKey) => k.revokedAt === null && !expired(k, tx.now) && hasScope(k, 'admin');
      if (administers(target) && !keys.some((k) => k.id !== keyId && administers(k))) {
        throw new TasklaneError(
          'LAST_ADMIN_KEY',
          'This is the last admin key of the org: create another admin key first, then revoke this one.',
        );
      }
      await tx.revokeKey(orgId, keyId, tx.now);
    });
    this.forget(keyId);
  }

  /** Drops a key from this node's cache of valid keys (a revocation holds at once). */
  private forget(keyId: string): void {
    if (this.cache !== null)
      for (const [hash, entry] of this.cache) if (entry.key.id === keyId) this.cache.delete(hash);
  }

  private keyRecord(
    orgId: string,
    name: string,
    scopes: Scope[],
    secret: string,
    now: number,
    expiresAt: number | null,
  ): ApiKey {
    return { id: newKeyId(), orgId, name, scopes, hash: sha256Hex(secret), createdAt: now, expiresAt, revokedAt: null };
  }
}

const expired = (k: ApiKey, now: number): boolean => k.expiresAt !== null && k.expiresAt <= now;

function givenRootKey(key: ApiKey | null, now: number): GivenRootKey {
  if (key === null) return 'unknown';
  if (key.revokedAt !== null) return 'revoked';
  if (expired(key, now)) return 'expired';
  return key.scopes.includes('root') ? 'valid' : 'not-root';
}
