/**
 * The input rules of the edge (docs/api.md, "Input rules") on every route that writes what a client
 * sent (create, batch, patch, steps, claim) and on the query strings that reach storage, on SQLite
 * and on PostgreSQL: one answer on both, 400 VALIDATION_FAILED naming the value, and nothing stored.
 * Before the rules, a lone surrogate answered 500 on PostgreSQL and was stored on SQLite; 1e400 was
 * stored as null; `__proto__` was called "not valid JSON".
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Problem, Response, WireTask } from '../helpers/http-harness.js';
import { edgeBackends, type EdgeApp } from './edge-backends.js';

const backends = edgeBackends('input-rules');

/** The problem of a refusal, checked to be 400 `code` naming exactly `path`. */
function expectRefused(res: Response, path: string | null, code = 'VALIDATION_FAILED'): Problem {
  expect(res.statusCode, res.body).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json<Problem>();
  expect(body.code).toBe(code);
  if (path !== null) {
    expect(body.errors?.map((e) => e.path)).toEqual([path]);
    expect(body.detail.startsWith(`${path} `), body.detail).toBe(true);
  }
  return body;
}

describe.each(backends)('on $name', (backend) => {
  let e: EdgeApp;
  let n = 0;
  /** A type of its own for each test, so that "nothing was stored" is a list of that type. */
  const freshType = () => `edge.t${++n}`;
  beforeAll(async () => {
    e = await backend.open();
  });
  afterAll(() => e.cleanup());

  const create = async (body: Record<string, unknown>): Promise<WireTask> => {
    const res = await e.call('POST', '/v1/tasks', body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<WireTask>();
  };
  const listOf = async (type: string): Promise<WireTask[]> => {
    const res = await e.call('GET', `/v1/tasks?type=${type}&limit=200`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: WireTask[] }>().items;
  };
  const getTask = async (id: string): Promise<WireTask> => {
    const res = await e.call('GET', `/v1/tasks/${id}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<WireTask>();
  };

  describe('a string or key that is not valid Unicode is 400 VALIDATION_FAILED naming it, and nothing is stored', () => {
    test.each([
      ['a title of a lone high surrogate', '"title":"\\ud800"', '/title'],
      ['a lone low surrogate in a metadata value', '"metadata":{"m":"x\\udc00y"}', '/metadata/m'],
      ['a key of input with a lone surrogate (shown repaired)', '"input":{"k\\ud800":1}', '/input/k\ufffd'],
      ['a surrogate pair in the wrong order', '"input":{"a":["ok","\\ude00\\ud83d"]}', '/input/a/1'],
      ['a high surrogate at the end of a label', '"labels":["x\\udbff"]', '/labels/0'],
    ])('create: %s', async (_what, fields, path) => {
      const type = freshType();
      expectRefused(await e.call('POST', '/v1/tasks', `{"type":"${type}",${fields}}`), path);
      expect(await listOf(type)).toEqual([]);
    });

    test('batch: the item and the place inside it, and no item of the batch is created', async () => {
      const type = freshType();
      const raw = `{"tasks":[{"type":"${type}"},{"type":"${type}","input":{"list":["ok","\\ud83d"]}}]}`;
      expectRefused(await e.call('POST', '/v1/tasks/batch', raw), '/tasks/1/input/list/1');
      expect(await listOf(type)).toEqual([]);
    });

    test('patch: a title, a metadata key; the task is unchanged', async () => {
      const task = await create({ type: freshType(), title: 'before' });
      expectRefused(await e.call('PATCH', `/v1/tasks/${task.id}`, '{"title":"t\\udfff"}'), '/title');
      expectRefused(await e.call('PATCH', `/v1/tasks/${task.id}`, '{"metadata":{"\\ud800":"v"}}'), '/metadata/\ufffd');
      expect(await getTask(task.id)).toEqual(task);
    });

    test('steps: a message, a key inside data; no step is appended', async () => {
      const task = await create({ type: freshType() });
      const url = `/v1/tasks/${task.id}/steps`;
      expectRefused(await e.call('POST', url, '{"steps":[{"message":"m\\ud800"}]}'), '/steps/0/message');
      expectRefused(
        await e.call('POST', url, '{"steps":[{"message":"ok"},{"message":"ok","data":{"\\udc00":1}}]}'),
        '/steps/1/data/\ufffd',
      );
      expect((await getTask(task.id)).steps).toEqual([]);
    });

    test('claim: a worker id; the task stays queued', async () => {
      const type = freshType();
      const task = await create({ type });
      const res = await e.call('POST', '/v1/tasks/claim', `{"types":["${type}"],"workerId":"w\\ud800"}`);
      expectRefused(res, '/workerId');
      expect((await getTask(task.id)).status).toBe('queued');
    });

    test('a surrogate pair written as two escapes is one character, stored as sent', async () => {
      const res = await e.call(
        'POST',
        '/v1/tasks',
        `{"type":"${freshType()}","title":"\\ud83d\\ude00","input":{"\\ud83d\\ude00":"x\\ud83d\\ude00"}}`,
      );
      expect(res.statusCode, res.body).toBe(201);
      const task = await getTask(res.json<WireTask>().id);
      expect(task.title).toBe('😀');
      expect(task.input).toEqual({ '😀': 'x😀' });
    });
  });

  describe('NUL is refused with its place named', () => {
    test.each([
      ['in a string of input', '"input":{"s":"a\\u0000b"}', '/input/s'],
      ['in a key of metadata', '"metadata":{"a\\u0000":"b"}', '/metadata/a\u0000'],
    ])('%s', async (_what, fields, path) => {
      const type = freshType();
      expectRefused(await e.call('POST', '/v1/tasks', `{"type":"${type}",${fields}}`), path);
      expect(await listOf(type)).toEqual([]);
    });
  });

  describe('numbers the task record cannot hold are refused, never rounded or nulled', () => {
    test.each(['1e400', '-1e400', '12345678901234567890', '9007199254740992', '-9007199254740992', '1.5e300'])(
      '%s in input, in a batch item, in step data',
      async (literal) => {
        const type = freshType();
        expectRefused(await e.call('POST', '/v1/tasks', `{"type":"${type}","input":{"x":${literal}}}`), '/input/x');
        expectRefused(
          await e.call('POST', '/v1/tasks/batch', `{"tasks":[{"type":"${type}","input":[1,${literal}]}]}`),
          '/tasks/0/input/1',
        );
        expect(await listOf(type)).toEqual([]);
        const task = await create({ type });
        expectRefused(
          await e.call('POST', `/v1/tasks/${task.id}/steps`, `{"steps":[{"message":"m","data":{"n":${literal}}}]}`),
          '/steps/0/data/n',
        );
        expect((await getTask(task.id)).steps).toEqual([]);
      },
    );

    test('the edges of the range, and fractions, are stored and read back as JavaScript reads them', async () => {
      const literals = ['9007199254740991', '-9007199254740991', '0', '0.1', '1.5', '1e-7', '2.5e15', '1e-400'];
      const res = await e.call('POST', '/v1/tasks', `{"type":"${freshType()}","input":[${literals.join(',')}]}`);
      expect(res.statusCode, res.body).toBe(201);
      expect((await getTask(res.json<WireTask>().id)).input).toEqual(literals.map((l) => JSON.parse(l) as number));
    });
  });

  describe('__proto__ and constructor.prototype are refused as what they are, not as "not valid JSON"', () => {
    test.each([
      ['at the top', '"__proto__":{"polluted":true}', '/__proto__'],
      ['in metadata', '"metadata":{"__proto__":{"polluted":true}}', '/metadata/__proto__'],
      ['deep in input', '"input":{"a":[{"__proto__":1}]}', '/input/a/0/__proto__'],
      ['spelled with escapes', '"input":{"\\u005f_proto__":{}}', '/input/__proto__'],
      ['constructor with a prototype', '"input":{"constructor":{"prototype":{"polluted":true}}}', '/input/constructor'],
    ])('%s', async (_what, fields, path) => {
      const type = freshType();
      const body = expectRefused(await e.call('POST', '/v1/tasks', `{"type":"${type}",${fields}}`), path);
      expect(body.errors?.[0]?.message).toMatch(/^is refused: a (__proto__|constructor) key/);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(await listOf(type)).toEqual([]);
    });

    test('a key named constructor without a prototype is ordinary data', async () => {
      const task = await create({
        type: freshType(),
        metadata: { constructor: 'Bob' },
        input: { constructor: { a: 1 } },
      });
      expect(task.metadata).toEqual({ constructor: 'Bob' });
      expect(task.input).toEqual({ constructor: { a: 1 } });
    });
  });

  describe('query parameters that reach storage follow the text rule', () => {
    test.each([
      ['label=%00', 'querystring/label'],
      ['assignee=a%00b', 'querystring/assignee'],
      ['listId=%00', 'querystring/listId'],
      ['cursor=%00', 'querystring/cursor'],
      ['%00=1', 'querystring/\u0000'],
    ])('GET /v1/tasks?%s', async (query, path) => {
      expectRefused(await e.call('GET', `/v1/tasks?${query}`), path);
    });

    test('a query value that is not percent-encoded UTF-8 is kept as written, not decoded into a surrogate', async () => {
      const type = freshType();
      const task = await create({ type });
      expect((await e.call('PATCH', `/v1/tasks/${task.id}`, { assignee: '%ED%A0%80' })).statusCode).toBe(200);
      const res = await e.call('GET', `/v1/tasks?type=${type}&assignee=%ED%A0%80`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<{ items: WireTask[] }>().items.map((t) => t.assignee)).toEqual(['%ED%A0%80']);
    });
  });

  test('a path parameter with NUL is 400 naming it, before the task is looked up', async () => {
    expectRefused(await e.call('GET', '/v1/tasks/%00'), 'params/taskId');
    expectRefused(await e.call('POST', '/v1/tasks/OPS-%00/cancel', {}), 'params/taskId');
  });
});

describe('bodies that are not UTF-8 are MALFORMED_JSON, never decoded with U+FFFD', () => {
  let e: EdgeApp;
  beforeAll(async () => {
    e = await (backends[0]?.open() ?? Promise.reject(new Error('no backend')));
  });
  afterAll(() => e.cleanup());

  test.each([
    ['a 0xFF byte', [0xff]],
    ['a surrogate in CESU-8 (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['a truncated sequence', [0xe6, 0x97]],
  ])('%s inside a string', async (_what, bytes) => {
    const body = Buffer.concat([Buffer.from('{"type":"edge.bytes","title":"a'), Buffer.from(bytes), Buffer.from('"}')]);
    const problem = expectRefused(await e.call('POST', '/v1/tasks', body), null, 'MALFORMED_JSON');
    expect(problem.detail).toBe('The body is not valid UTF-8.');
    expect((await e.call('GET', '/v1/tasks?type=edge.bytes')).json<{ items: unknown[] }>().items).toEqual([]);
  });

  test('a leading byte order mark is ignored, as before', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"type":"edge.bom"}')]);
    expect((await e.call('POST', '/v1/tasks', body)).statusCode).toBe(201);
  });

  test('a body nested too deep names the first value past level 32', async () => {
    const raw = `{"type":"edge.deep","input":${'['.repeat(40)}${']'.repeat(40)}}`;
    const problem = expectRefused(await e.call('POST', '/v1/tasks', raw), `/input${'/0'.repeat(31)}`);
    expect(problem.errors?.[0]?.message).toBe('nests deeper than 32 levels');
  });
});
