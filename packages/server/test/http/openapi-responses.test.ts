/**
 * /openapi.json says what the server does, operation by operation. Every operation of the served
 * document is exercised through app.inject() on a real app: its success answers, and each error
 * answer it can give that is cheap to provoke, the generic ones derived from the operation (no key,
 * a key without its scope, a bad body, an oversized path parameter, the rate limit, storage gone)
 * and the rest listed per operation in openapi-responses.cases.ts. Every answer is checked against the document: its status
 * is documented for the operation, its Content-Type is a documented media type, its body validates
 * against the documented schema (Ajv, JSON Schema 2020-12, with formats), and the headers the
 * document does not call conditional ("Only …") are there, and valid. Every documented status and
 * media type must have been answered, but for 500 (provoked on POST /v1/tasks only), 408 (a body that
 * stalls past the request timeout needs a real socket: framework-errors.test.ts provokes it) and those
 * listed with the reason they cannot be.
 * An operation without cases here (a route added later) fails by name.
 * SQLite always; PostgreSQL too when TASKLANE_TEST_PG_URL is set.
 */
// app.swagger() is the plugin's decoration, typed by its augmentation of FastifyInstance.
import type {} from '@fastify/swagger';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Scope } from '../../src/domain/scope.js';
import { createPostgresStore } from '../../src/storage/postgres/pg-store.js';
import { makeHarness, type Response } from '../helpers/http-harness.js';
import { freshSchema, pgUrl } from '../helpers/pg.js';
import {
  CASES,
  genericCases,
  makeWorld,
  okKey,
  type Case,
  type OperationUnderTest,
  type Req,
  type StoreFactory,
  type World,
} from './openapi-responses.cases.js';

// ---- the document ------------------------------------------------------------------------------

interface MediaType {
  schema: Record<string, unknown>;
}
interface DocResponse {
  description: string;
  headers?: Record<string, { schema: Record<string, unknown>; description?: string }>;
  content?: Record<string, MediaType>;
}
interface Parameter {
  name: string;
  in: string;
  schema: { maxLength?: number };
}
interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  responses: Record<string, DocResponse>;
}
interface Document {
  security: Array<Record<string, string[]>>;
  paths: Record<string, Record<string, Operation>>;
}

/** The document as a client reads it, from a throwaway app: the test names come from it. */
async function servedDocument(): Promise<Document> {
  const h = await makeHarness();
  try {
    return (await h.call(null, 'GET', '/openapi.json')).json<Document>();
  } finally {
    await h.cleanup();
  }
}

const DOC = await servedDocument();
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const OPERATIONS = Object.entries(DOC.paths).flatMap(([path, item]) =>
  METHODS.flatMap((m) => {
    const op = item[m];
    if (op === undefined) return [];
    const security = op.security ?? DOC.security;
    const operation: OperationUnderTest = {
      name: `${m.toUpperCase()} ${path}`,
      method: m.toUpperCase() as OperationUnderTest['method'],
      path,
      public: security.length === 0,
      scopes: security.flatMap((req) => (req.bearer ?? []) as Scope[]),
      pathParams: (op.parameters ?? [])
        .filter((p) => p.in === 'path')
        .map((p) => ({ name: p.name, ...(p.schema.maxLength === undefined ? {} : { maxLength: p.schema.maxLength }) })),
    };
    return [{ ...operation, op }];
  }),
);

// ---- checking an answer against the document ---------------------------------------------------------

const ajv = addFormats.default(new Ajv2020({ strict: false, allErrors: true, verbose: true }));
const validators = new Map<object, ValidateFunction>();

/** The schema with every `#/…` reference into the document replaced by its target. */
function dereference(schema: unknown, seen: ReadonlySet<string> = new Set()): unknown {
  if (Array.isArray(schema)) return schema.map((s) => dereference(s, seen));
  if (schema === null || typeof schema !== 'object') return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/')) {
    if (seen.has(ref)) throw new Error(`recursive ${ref}: dereference by hand`);
    const target = ref
      .slice(2)
      .split('/')
      .reduce<unknown>(
        (node, part) => (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')],
        DOC,
      );
    return dereference(target, new Set([...seen, ref]));
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, dereference(v, seen)]));
}

function validate(schema: Record<string, unknown>, value: unknown): string[] {
  let fn = validators.get(schema);
  if (fn === undefined) {
    fn = ajv.compile(dereference(schema) as object);
    validators.set(schema, fn);
  }
  return fn(value)
    ? []
    : (fn.errors ?? []).map((e) => {
        const got = typeof e.data === 'object' && e.data !== null ? '' : ` (got ${JSON.stringify(e.data)})`;
        return `${e.instancePath || '/'} ${e.message ?? ''}${got}`;
      });
}

/** What is wrong with this answer, by the document; and the `status media` it counts as. */
function check(op: Operation, res: Response): { problems: string[]; seen: string } {
  const status = String(res.statusCode);
  const documented = op.responses[status];
  if (documented === undefined) {
    return { problems: [`status ${status} is not documented (body: ${res.body.slice(0, 300)})`], seen: status };
  }
  const problems: string[] = [];
  const contentType = res.headers['content-type'];
  const media = typeof contentType === 'string' ? (contentType.split(';')[0] ?? '').trim().toLowerCase() : null;
  if (documented.content === undefined) {
    if (res.rawPayload.length > 0) problems.push(`${status} is documented without a body, and has one`);
    if (media !== null) problems.push(`${status} is documented without a body, and has Content-Type ${media}`);
  } else if (media === null || documented.content[media] === undefined) {
    const known = Object.keys(documented.content).join(', ');
    problems.push(`${status} answered ${media ?? 'no Content-Type'}; documented: ${known}`);
  } else {
    const body: unknown = /[/+]json$/.test(media) ? JSON.parse(res.body) : res.body;
    for (const e of validate(documented.content[media].schema, body)) problems.push(`${status} ${media} body: ${e}`);
  }
  for (const [name, h] of Object.entries(documented.headers ?? {})) {
    const value = res.headers[name.toLowerCase()];
    if (value === undefined) {
      if (!(h.description ?? '').startsWith('Only')) problems.push(`${status} lacks the header ${name}`);
    } else {
      for (const e of validate(h.schema, String(value))) problems.push(`${status} header ${name}: ${e}`);
    }
  }
  return { problems, seen: `${status} ${media ?? '-'}` };
}

// ---- running -----------------------------------------------------------------------------------

/** What each operation answered (`status media`), on any backend: for the table. */
const exercised = new Map<string, Set<string>>();

const backends: Array<{ name: string; store?: StoreFactory }> = [{ name: 'sqlite' }];
const url = pgUrl();
if (url !== null) {
  const schemas = freshSchema('openapi-responses');
  backends.push({
    name: 'postgres',
    store: (clock) => createPostgresStore({ url, schema: schemas.newSchema(), clock }),
  });
}

describe.each(backends)('$name', ({ store }) => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld(store);
  });
  afterAll(async () => {
    await Promise.all([w.h.cleanup(), w.limited.cleanup(), w.broken.cleanup()]);
  });

  test('/openapi.json serves the generated document whole (its response schema drops nothing)', () => {
    expect(JSON.parse(JSON.stringify(w.h.app.swagger()))).toEqual(DOC);
  });

  test.each(OPERATIONS)('$name answers as documented', async (o) => {
    const cases = CASES[o.name];
    if (cases === undefined) throw new Error(`${o.name} has no cases in openapi-responses.cases.ts: add them`);
    const [okStatus, ok] = cases.ok;
    const withKey = async (build: (w: World) => Promise<Req> | Req): Promise<Req> => {
      const req = await build(w);
      return 'key' in req ? req : { ...req, key: okKey(w, o) };
    };
    const shape = await withKey(ok);
    const all: Case[] = [
      ...genericCases(o, shape),
      { name: 'success', status: okStatus, request: () => shape },
      ...(cases.missing === undefined ? [] : [{ name: 'missing', status: 404, request: cases.missing }]),
      ...(cases.more ?? []),
    ];
    const seen = new Set<string>();
    const failures: string[] = [];
    for (const c of all) {
      const app = c.app === undefined ? w.h : w[c.app];
      const res = await w.send(o, await withKey(c.request), app);
      if (res.statusCode !== c.status) {
        failures.push(`${c.name}: expected ${c.status}, got ${res.statusCode}: ${res.body.slice(0, 300)}`);
        continue;
      }
      const { problems, seen: answer } = check(o.op, res);
      seen.add(answer);
      exercised.set(o.name, new Set([...(exercised.get(o.name) ?? []), answer]));
      failures.push(...problems.map((p) => `${c.name}: ${p}`));
    }
    const documented = Object.entries(o.op.responses).flatMap(([status, r]) =>
      r.content === undefined ? [`${status} -`] : Object.keys(r.content).map((m) => `${status} ${m}`),
    );
    const missed = documented.filter(
      (d) => !seen.has(d) && !d.startsWith('500 ') && !d.startsWith('408 ') && !(d in (cases.unprovoked ?? {})),
    );
    if (missed.length > 0)
      failures.push(`documented, never answered: ${missed.join(', ')} (add a case, or fix the document)`);
    expect(failures).toEqual([]);
  });
});

afterAll(() => {
  /** Fastify's own answers (`{ error, code, message, statusCode }`) are marked with a star. */
  const own = (op: Operation, status: string, media: string | undefined) =>
    media !== undefined &&
    'statusCode' in ((op.responses[status]?.content?.[media]?.schema.properties ?? {}) as object);
  const rows = OPERATIONS.map((o) => {
    const seen = [...(exercised.get(o.name) ?? [])].map((s) => {
      const [status = '', media] = s.split(' ');
      return own(o.op, status, media) ? `${status}*` : status;
    });
    return `${o.name.padEnd(38)} ${[...new Set(seen)].sort().join(' ')}`;
  });
  console.log(
    `Statuses answered per operation (${backends.map((b) => b.name).join(', ')}; * = Fastify's own answer, not a problem document):\n` +
      rows.join('\n'),
  );
});
