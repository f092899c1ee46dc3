/** The caller's own org (SPEC §2, §7): its name and the defaults its new tasks take. */
import { TasklaneError } from '../domain/errors.js';
import type { Org, OrgDefaults } from '../domain/org.js';
import type { TaskStore } from '../storage/task-store.js';

/** A change to an org: fields left out stay as they are; a default set to null is the built-in one again. */
export interface OrgChange {
  name?: string | undefined;
  defaults?: Partial<OrgDefaults> | undefined;
}

export class OrgService {
  constructor(private readonly store: TaskStore) {}

  async get(orgId: string): Promise<Org> {
    return orThrow(await this.store.read((tx) => tx.getOrg(orgId)));
  }

  /**
   * Applies `change` to the org as it is now, under the org's lock: two changes at once to different
   * fields both hold. Tasks that exist keep the values they were created with.
   */
  update(orgId: string, change: OrgChange): Promise<Org> {
    return this.store.write(async (tx) => {
      const org = orThrow(await tx.lockOrg(orgId));
      const defaults = { ...org.defaults };
      if (change.defaults?.maxRetries !== undefined) defaults.maxRetries = change.defaults.maxRetries;
      if (change.defaults?.ttlSeconds !== undefined) defaults.ttlSeconds = change.defaults.ttlSeconds;
      const next: Org = { ...org, name: change.name ?? org.name, defaults };
      await tx.updateOrg(next);
      return next;
    });
  }
}

/** An authenticated key's org always exists (orgs are never deleted); this is only a safeguard. */
function orThrow(org: Org | null): Org {
  if (org === null) throw new TasklaneError('NOT_FOUND', 'No such org.');
  return org;
}
