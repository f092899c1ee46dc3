/**
 * An org's settings (SPEC §2, §7): `GET /v1/org` and `PATCH /v1/org`, and the defaults a new task
 * takes: its request's, else its type's, else its org's, else the built-in ones (3 retries, 30 days),
 * on SQLite and on PostgreSQL. Each test works in an org of its own, made with the root key.
 */
import { OrgUpdateBody, TaskCreateBody, TypeSettingsBody } from '@tasklane/sdk/schemas';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_MAX_RETRIES, DEFAULT_TTL_SECONDS, LIMITS } from '../../src/domain/task.js';
import type { Problem, Response, WireTask } from '../helpers/http-harness.js';
import { edgeBackends, type EdgeApp } from './edge-backends.js';

const backends = edgeBackends('org-settings');

interface OrgInfo {
  id: string;
  name: string;
  createdAt: string;
  defaults: { maxRetries: number | null; ttlSeconds: number | null };
}

/** A fresh org's admin, calling with its own key. */
interface OrgAdmin {
  id: string;
  key: string;
  call(method: InjectOptions['method'], url: string, body?: unknown): Promise<Response>;
}

const ok = <T>(res: Response, status = 200): T => {
  expect(res.statusCode, res.body).toBe(status);
  return res.json<T>();
};

/** How long a terminal task is kept, in seconds: expiresAt - completedAt. */
const keptFor = (t: WireTask): number => (Date.parse(t.expiresAt ?? '') - Date.parse(t.completedAt ?? '')) / 1000;

describe.each(backends)('on $name', (backend) => {
  let e: EdgeApp;
  let n = 0;
  beforeAll(async () => {
    e = await backend.open();
  });
  afterAll(() => e.cleanup());

  const newOrg = async (): Promise<OrgAdmin> => {
    const id = `settings-${++n}`;
    const created = ok<{ adminKey: { secret: string } }>(
      await e.call('POST', '/v1/orgs', { id, name: `Org ${n}` }),
      201,
    );
    const key = created.adminKey.secret;
    return {
      id,
      key,
      call: (method, url, body) => e.call(method, url, body, { authorization: `Bearer ${key}` }),
    };
  };
  const create = async (org: OrgAdmin, body: Record<string, unknown>): Promise<WireTask> =>
    ok<WireTask>(await org.call('POST', '/v1/tasks', body), 201);
  /** Cancel the task: terminal now, so its expiresAt is set from its ttl. */
  const ended = async (org: OrgAdmin, id: string): Promise<WireTask> =>
    ok<WireTask>(await org.call('POST', `/v1/tasks/${id}/cancel`, {}));

  test('a new org has no defaults of its own; GET /v1/org shows it to a key that reads tasks', async () => {
    const org = await newOrg();
    const reader = ok<{ secret: string }>(
      await org.call('POST', '/v1/keys', { name: 'reader', scopes: ['tasks:read'] }),
      201,
    );
    const res = await e.call('GET', '/v1/org', undefined, { authorization: `Bearer ${reader.secret}` });
    expect(ok<OrgInfo>(res)).toEqual({
      id: org.id,
      name: `Org ${n}`,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      defaults: { maxRetries: null, ttlSeconds: null },
    });
    // Changing them is an admin's: a reader is refused, and nothing changes.
    const patch = await e.call(
      'PATCH',
      '/v1/org',
      { defaults: { maxRetries: 1 } },
      {
        authorization: `Bearer ${reader.secret}`,
      },
    );
    expect(patch.statusCode).toBe(403);
    expect(ok<OrgInfo>(await org.call('GET', '/v1/org')).defaults.maxRetries).toBeNull();
  });

  test('PATCH changes only what it names; null goes back to the built-in default', async () => {
    const org = await newOrg();
    const set = ok<OrgInfo>(await org.call('PATCH', '/v1/org', { defaults: { maxRetries: 7, ttlSeconds: 3600 } }));
    expect(set.defaults).toEqual({ maxRetries: 7, ttlSeconds: 3600 });
    expect(ok<OrgInfo>(await org.call('GET', '/v1/org'))).toEqual(set);

    const renamed = ok<OrgInfo>(await org.call('PATCH', '/v1/org', { name: 'Renamed' }));
    expect(renamed).toEqual({ ...set, name: 'Renamed' });
    const oneBack = ok<OrgInfo>(await org.call('PATCH', '/v1/org', { defaults: { ttlSeconds: null } }));
    expect(oneBack.defaults).toEqual({ maxRetries: 7, ttlSeconds: null });
    expect(ok<OrgInfo>(await org.call('PATCH', '/v1/org', {}))).toEqual(oneBack);
    expect(ok<OrgInfo>(await org.call('GET', '/v1/org'))).toEqual(oneBack);
  });

  test.each([
    ['maxRetries below 0', { defaults: { maxRetries: -1 } }, '/defaults/maxRetries'],
    ['maxRetries above the limit', { defaults: { maxRetries: LIMITS.maxRetriesMax + 1 } }, '/defaults/maxRetries'],
    ['maxRetries not an integer', { defaults: { maxRetries: 1.5 } }, '/defaults/maxRetries'],
    ['maxRetries as text', { defaults: { maxRetries: '3' } }, '/defaults/maxRetries'],
    ['ttlSeconds of 0', { defaults: { ttlSeconds: 0 } }, '/defaults/ttlSeconds'],
    ['ttlSeconds above the limit', { defaults: { ttlSeconds: LIMITS.ttlMaxSeconds + 1 } }, '/defaults/ttlSeconds'],
    ['a default that does not exist', { defaults: { priority: 5 } }, '/defaults/priority'],
    ['a field that is not the org’s to set', { id: 'elsewhere' }, '/id'],
    ['an empty name', { name: '' }, '/name'],
  ])('PATCH with %s is 400 VALIDATION_FAILED naming it, and changes nothing', async (_what, body, path) => {
    const org = await newOrg();
    const before = ok<OrgInfo>(await org.call('PATCH', '/v1/org', { defaults: { maxRetries: 2, ttlSeconds: 60 } }));
    const res = await org.call('PATCH', '/v1/org', body);
    expect(res.statusCode, res.body).toBe(400);
    const problem = res.json<Problem>();
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors?.map((x) => x.path)).toContain(path);
    expect(ok<OrgInfo>(await org.call('GET', '/v1/org'))).toEqual(before);
  });

  test('the highest values the limits allow are taken', async () => {
    const org = await newOrg();
    const top = { maxRetries: LIMITS.maxRetriesMax, ttlSeconds: LIMITS.ttlMaxSeconds };
    expect(ok<OrgInfo>(await org.call('PATCH', '/v1/org', { defaults: top })).defaults).toEqual(top);
    const low = { maxRetries: 0, ttlSeconds: 1 };
    expect(ok<OrgInfo>(await org.call('PATCH', '/v1/org', { defaults: low })).defaults).toEqual(low);
  });

  test("the org's defaults apply at create (single, batch, and through a dialect), and its ttl reaches expiresAt", async () => {
    const org = await newOrg();
    ok(await org.call('PATCH', '/v1/org', { defaults: { maxRetries: 7, ttlSeconds: 120 } }));
    const single = await create(org, { type: 'plain' });
    expect(single.maxRetries).toBe(7);
    expect(keptFor(await ended(org, single.id))).toBe(120);

    const batch = ok<{ tasks: WireTask[] }>(
      await org.call('POST', '/v1/tasks/batch', { tasks: [{ type: 'plain' }, { type: 'plain', maxRetries: 1 }] }),
      201,
    );
    expect(batch.tasks.map((t) => t.maxRetries)).toEqual([7, 1]);

    const run = ok<{ task_id: string }>(
      await org.call('POST', '/compat/mindfort/api/v1/tasks/run', {
        message: 'scan it',
        target_id: '0190aaaa-0000-7000-8000-000000000001',
      }),
    );
    const viaDialect = run.task_id.split('::')[1] ?? '';
    expect(ok<WireTask>(await org.call('GET', `/v1/tasks/${viaDialect}`)).maxRetries).toBe(7);
    expect(keptFor(await ended(org, viaDialect))).toBe(120);

    // Tasks that exist keep what they were created with; new ones take the new defaults.
    ok(await org.call('PATCH', '/v1/org', { defaults: { maxRetries: null, ttlSeconds: null } }));
    expect(ok<WireTask>(await org.call('GET', `/v1/tasks/${batch.tasks[0]?.id}`)).maxRetries).toBe(7);
    const later = await create(org, { type: 'plain' });
    expect(later.maxRetries).toBe(DEFAULT_MAX_RETRIES);
    expect(keptFor(await ended(org, later.id))).toBe(DEFAULT_TTL_SECONDS);
  });

  test("a type's default wins over the org's, field by field; a request's value wins over both", async () => {
    const org = await newOrg();
    ok(await org.call('PATCH', '/v1/org', { defaults: { maxRetries: 7, ttlSeconds: 120 } }));
    const typed = ok<{ defaults: Record<string, number> }>(
      await org.call('PUT', '/v1/types/typed', { defaults: { maxRetries: 2, ttlSeconds: 60 } }),
    );
    expect(typed.defaults).toEqual({ maxRetries: 2, ttlSeconds: 60 });
    ok(await org.call('PUT', '/v1/types/retries-only', { defaults: { maxRetries: 0 } }));

    const byType = await create(org, { type: 'typed' });
    expect(byType.maxRetries).toBe(2);
    expect(keptFor(await ended(org, byType.id))).toBe(60);

    // The type says nothing of ttl: the org's applies.
    const partly = await create(org, { type: 'retries-only' });
    expect(partly.maxRetries).toBe(0);
    expect(keptFor(await ended(org, partly.id))).toBe(120);

    const explicit = await create(org, { type: 'typed', maxRetries: 9, ttlSeconds: 30 });
    expect(explicit.maxRetries).toBe(9);
    expect(keptFor(await ended(org, explicit.id))).toBe(30);
  });

  test("one org's settings are its own: another org neither sees nor takes them", async () => {
    const mine = await newOrg();
    const theirs = await newOrg();
    ok(await mine.call('PATCH', '/v1/org', { name: 'Mine', defaults: { maxRetries: 9, ttlSeconds: 99 } }));
    const other = ok<OrgInfo>(await theirs.call('GET', '/v1/org'));
    expect(other).toMatchObject({ id: theirs.id, name: `Org ${n}`, defaults: { maxRetries: null, ttlSeconds: null } });
    const task = await create(theirs, { type: 'plain' });
    expect(task.maxRetries).toBe(DEFAULT_MAX_RETRIES);
    expect(keptFor(await ended(theirs, task.id))).toBe(DEFAULT_TTL_SECONDS);
    // Their change leaves mine as it was.
    ok(await theirs.call('PATCH', '/v1/org', { defaults: { maxRetries: 1 } }));
    expect(ok<OrgInfo>(await mine.call('GET', '/v1/org'))).toMatchObject({
      id: mine.id,
      name: 'Mine',
      defaults: { maxRetries: 9, ttlSeconds: 99 },
    });
  });
});

describe('the bounds of the wire schemas are the domain limits', () => {
  type Bounds = { minimum?: number; maximum?: number };
  const union = (s: unknown): Bounds =>
    ((s as { anyOf?: Bounds[] }).anyOf?.find((x) => x.maximum !== undefined) ?? (s as Bounds)) as Bounds;
  const orgDefaults = OrgUpdateBody.properties.defaults.properties;
  const typeDefaults = TypeSettingsBody.properties.defaults.properties;
  const task = TaskCreateBody.properties;

  test('maxRetries: 0 to maxRetriesMax, for a task, a type and an org', () => {
    for (const s of [task.maxRetries, typeDefaults.maxRetries, union(orgDefaults.maxRetries)]) {
      expect(s).toMatchObject({ minimum: 0, maximum: LIMITS.maxRetriesMax });
    }
  });

  test('ttlSeconds: 1 to ttlMaxSeconds, for a task, a type and an org', () => {
    for (const s of [task.ttlSeconds, typeDefaults.ttlSeconds, union(orgDefaults.ttlSeconds)]) {
      expect(s).toMatchObject({ minimum: 1, maximum: LIMITS.ttlMaxSeconds });
    }
  });
});
