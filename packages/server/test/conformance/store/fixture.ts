/**
 * What every topic of the store suite works with: a fresh, migrated store per test (orgs ORG_A
 * and ORG_B in it), the test's clock and ids, and small builders over them.
 */
import { afterEach, beforeEach } from 'vitest';
import type { ApiKey } from '../../../src/domain/api-key.js';
import type { ManualClock } from '../../../src/domain/clock.js';
import type { Project } from '../../../src/domain/project.js';
import type { Task } from '../../../src/domain/task.js';
import type {
  StatusCount,
  TaskChange,
  TaskFilter,
  TaskPage,
  TaskStore,
  TypeConfig,
} from '../../../src/storage/task-store.js';
import { ORG_A, ORG_B, T0, idSequence, makeTask, taskInStatus } from '../../helpers/task-factory.js';

export interface StoreUnderTest {
  store: TaskStore;
  clock: ManualClock;
  cleanup: () => Promise<void>;
}

/** One topic of the suite: registers its `describe` blocks, reading the store from `fx` in its tests. */
export type StoreTopic = (fx: StoreFixture) => void;

export interface StoreFixture {
  /** The store of the running test (a new one for every test). */
  readonly store: TaskStore;
  readonly clock: ManualClock;
  /** The next id of this test's sequence (increasing UUIDv7s). */
  nextId(): string;
  /** A new task of org A (unless overridden) with the next id. */
  task(overrides?: Partial<Task>): Task;
  /** A new task shaped like one that reached `status` through the lifecycle, with the next id. */
  inStatus(status: Task['status'], overrides?: Partial<Task>): Task;
  insert(...tasks: Task[]): Promise<void>;
  get(orgId: string, taskId: string): Promise<Task | null>;
  /** listTasks of org A. */
  list(filter: TaskFilter, limit?: number, afterId?: string | null): Promise<TaskPage>;
  key(orgId: string, id: string, overrides?: Partial<ApiKey>): ApiKey;
  project(orgId: string, id: string, projectKey: string, nextNumber?: number): Project;
  typeConfig(orgId: string, type: string, overrides?: Partial<TypeConfig>): TypeConfig;
}

/** A fresh store from `factory` before each test of the enclosing `describe`, closed after it. */
export function useStore(factory: () => Promise<StoreUnderTest>): StoreFixture {
  let sut: StoreUnderTest | undefined;
  let nextId: () => string = idSequence();
  const current = (): StoreUnderTest => {
    if (sut === undefined) throw new Error('the store suite is used outside a test');
    return sut;
  };

  beforeEach(async () => {
    sut = await factory();
    nextId = idSequence();
    await sut.store.write(async (tx) => {
      await tx.insertOrg({ id: ORG_A, name: 'Org A', createdAt: T0 });
      await tx.insertOrg({ id: ORG_B, name: 'Org B', createdAt: T0 + 1 });
    });
  });

  afterEach(async () => {
    await current().cleanup();
    sut = undefined;
  });

  const fx: StoreFixture = {
    get store() {
      return current().store;
    },
    get clock() {
      return current().clock;
    },
    nextId: () => nextId(),
    task: (overrides = {}) => makeTask({ id: nextId(), ...overrides }),
    inStatus: (status, overrides = {}) => taskInStatus(status, { id: nextId(), ...overrides }),
    insert: (...tasks) => fx.store.write((tx) => tx.insertTasks(tasks)),
    get: (orgId, taskId) => fx.store.read((tx) => tx.getTask(orgId, taskId)),
    list: (filter, limit = 100, afterId = null) => fx.store.read((tx) => tx.listTasks(ORG_A, filter, limit, afterId)),
    key: (orgId, id, overrides = {}) => ({
      id,
      orgId,
      name: `key ${id}`,
      scopes: ['tasks:read', 'tasks:write'],
      hash: `hash-${orgId}-${id}`.padEnd(64, '0'),
      createdAt: T0,
      expiresAt: null,
      revokedAt: null,
      ...overrides,
    }),
    project: (orgId, id, projectKey, nextNumber = 1) => ({
      id,
      orgId,
      key: projectKey,
      name: `Project ${projectKey}`,
      nextNumber,
      createdAt: T0,
    }),
    typeConfig: (orgId, type, overrides = {}) => ({
      orgId,
      type,
      concurrency: null,
      rateLimit: null,
      defaults: {},
      updatedAt: T0,
      ...overrides,
    }),
  };
  return fx;
}

/** A promise plus the function that resolves it: lets a test hold a unit of work open. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export const byId = <T extends { id: string }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => a.id.localeCompare(b.id));
export const ids = (tasks: readonly Task[]): string[] => tasks.map((t) => t.id);
/** The fields of a TaskChange the contract promises (adapters may announce more). */
export const core = ({ orgId, taskId, version, status }: TaskChange) => ({ orgId, taskId, version, status });
export const sortedCounts = (rows: readonly StatusCount[]): StatusCount[] =>
  [...rows].sort((a, b) => `${a.status}/${a.type}`.localeCompare(`${b.status}/${b.type}`));

/** One counter step: read the row for update, write it back at version + 1. */
export const increment = (s: TaskStore, orgId: string, taskId: string): Promise<boolean> =>
  s.write(async (tx) => {
    const current = await tx.getTaskForUpdate(orgId, taskId);
    if (current === null) throw new Error('counter task missing');
    return tx.updateTask({ ...current, version: current.version + 1, updatedAt: tx.now });
  });
