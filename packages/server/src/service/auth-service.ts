/** Orgs and API keys (SPEC §8): bootstrap, authentication, key management. */
import { systemClock, type Clock } from '../domain/clock.js';
import { TasklaneError } from '../domain/errors.js';
import type { ApiKey } from '../domain/api-key.js';
import { NO_ORG_DEFAULTS, type Org } from '../domain/org.js';
import type { Scope } from '../domain/scope.js';
import type { TaskStore } from '../storage/task-store.js';
import { KEY_PATTERN, newKeyId, newKeySecret, sha256Hex } from './ids.js';
import type { Principal } from './principal.js';

export const DEFAULT_ORG_ID = 'default';

export interface CreatedKey {
  key: ApiKey;
  /** The secret, shown once. */
  secret: string;
}

export interface BootstrapResult {
  /** The root key's secret when this start created it (empty database), else null. */
  rootKey: string | null;
}

/** How long a verified key is trusted without asking storage again (single-node stores only). */
const KEY_CACHE_MS = 5_000;
const KEY_CACHE_MAX = 10_000;

export class AuthService {
  /**
   * Keys recently found valid, by hash. Only where this process is the only writer of keys
   * (a single-node store): revoking here drops the entry at once, so revocation stays immediate.
   * With several nodes, every request asks storage. Expiry is checked on every use either way.
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
   * one). A given `rootKey` that the database does not know yet is added to org `default`.
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
        return { rootKey: secret };
      }
      if (rootKey !== undefined && (await tx.findKeyByHash(sha256Hex(rootKey))) === null) {
        await tx.insertKey(this.keyRecord(DEFAULT_ORG_ID, 'root', ['root', 'admin'], rootKey, tx.now, null));
      }
      return { rootKey: null };
    });
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
    if (key === null || key.revokedAt !== null) return null;
    if (key.expiresAt !== null && key.expiresAt <= now) return null;
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

  async revokeKey(orgId: string, keyId: string): Promise<void> {
    const done = await this.store.write((tx) => tx.revokeKey(orgId, keyId, tx.now));
    if (!done) throw new TasklaneError('NOT_FOUND', 'No such key.');
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
