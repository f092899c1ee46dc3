/** GET /v1/whoami: any valid key learns its own id, name, org and scopes; never a secret. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, problemOf, type Harness } from '../helpers/http-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(() => h.cleanup());

describe('GET /v1/whoami', () => {
  it('answers the key of the request, whatever its scopes', async () => {
    for (const scopes of [['tasks:read'], ['tasks:work'], ['tasks:write', 'tasks:read'], ['admin']] as const) {
      const key = await h.createKey(h.a.admin, [...scopes], { name: `who-${scopes.join('+')}` });
      const res = await h.call(key.secret, 'GET', '/v1/whoami');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ keyId: key.id, name: `who-${scopes.join('+')}`, orgId: 'default', scopes });
      expect(res.body).not.toContain(key.secret);
    }
  });

  it('names the org of the key: another org sees its own', async () => {
    const res = await h.call(h.b.admin, 'GET', '/v1/whoami');
    expect(res.json()).toMatchObject({ orgId: 'org-b', scopes: ['admin'] });
  });

  it('the root key sees root and admin', async () => {
    const res = await h.call(h.rootKey, 'GET', '/v1/whoami');
    expect(res.json<{ scopes: string[] }>().scopes.sort()).toEqual(['admin', 'root']);
  });

  it('answers 401 for a missing, unknown or revoked key, like every route', async () => {
    const key = await h.createKey(h.a.admin, ['tasks:read']);
    expect((await h.call(h.a.admin, 'DELETE', `/v1/keys/${key.id}`)).statusCode).toBe(204);
    for (const k of [null, 'tl_unknownunknownunknownunknownunknown00', key.secret]) {
      const res = await h.call(k, 'GET', '/v1/whoami');
      expect(res.statusCode).toBe(401);
      expect(problemOf(res).code).toBe('UNAUTHORIZED');
    }
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await h.call(null, 'GET', '/openapi.json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toContain('/v1/whoami');
  });
});
