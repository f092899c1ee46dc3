/** Task types (SPEC §5): defaults, concurrency and rate limit per type of an org. */
import { TasklaneError } from '../domain/errors.js';
import type { TaskStore, TypeConfig } from '../storage/task-store.js';

export type TypeInput = Partial<Pick<TypeConfig, 'concurrency' | 'rateLimit' | 'defaults'>>;

export class TypeService {
  constructor(private readonly store: TaskStore) {}

  /** Create or replace the settings of a type; fields left out are cleared. */
  put(orgId: string, type: string, input: TypeInput): Promise<TypeConfig> {
    return this.store.write(async (tx) => {
      const config: TypeConfig = {
        orgId,
        type,
        concurrency: input.concurrency ?? null,
        rateLimit: input.rateLimit ?? null,
        defaults: input.defaults ?? {},
        updatedAt: tx.now,
      };
      await tx.putTypeConfig(config);
      return config;
    });
  }

  async get(orgId: string, type: string): Promise<TypeConfig> {
    const config = await this.store.read((tx) => tx.getTypeConfig(orgId, type));
    if (config === null) throw new TasklaneError('NOT_FOUND', `No settings for type '${type}'.`);
    return config;
  }

  list(orgId: string): Promise<TypeConfig[]> {
    return this.store.read((tx) => tx.listTypeConfigs(orgId));
  }
}
