/**
 * The rules on task content are the service's, so every dialect holds them, each answering the same
 * catalogue error in its product's shape, on SQLite and PostgreSQL: a payload over 256 KiB that a
 * dialect composes (MindFort's message, Capy's prompt, QuantCDN's result) is refused and nothing is
 * stored. And text a dialect cuts (a title from a message's first line) is cut on a character
 * boundary: cut inside a surrogate pair, it was a lone surrogate, which PostgreSQL refuses inside jsonb.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { WireTask } from '../helpers/http-harness.js';
import { edgeBackends, type EdgeApp } from '../http/edge-backends.js';

const TARGET = '01900000-0000-7000-8000-000000000001';
const huge = 'x'.repeat(300_000);

describe.each(edgeBackends('dialect-content-rules'))('content rules in every dialect, on $name', (backend) => {
  let e: EdgeApp;
  beforeAll(async () => {
    e = await backend.open();
  });
  afterAll(() => e.cleanup());

  const countOf = async (type: string) =>
    (await e.call('GET', `/v1/tasks?type=${type}&limit=200`)).json<{ items: WireTask[] }>().items.length;

  test('MindFort: a 300 KB message (the task’s input) is its 400, nothing stored', async () => {
    const before = await countOf('mindfort.task');
    const res = await e.call('POST', '/compat/mindfort/api/v1/tasks/run', { message: huge, target_id: TARGET });
    expect(res.statusCode, res.body.slice(0, 200)).toBe(400);
    expect(res.json()).toEqual({
      error: expect.stringMatching(/^\/input is \d+ bytes/),
      request_id: expect.any(String),
    });
    expect(await countOf('mindfort.task')).toBe(before);
  });

  test('MindFort: a title cut from a long first line keeps whole characters', async () => {
    const message = `${'a'.repeat(499)}\u{1F600} and more`;
    const res = await e.call('POST', '/compat/mindfort/api/v1/tasks/run', { message, target_id: TARGET });
    expect(res.statusCode, res.body).toBe(200);
    const id = res.json<{ task_id: string }>().task_id.split('::')[1] ?? '';
    expect((await e.call('GET', `/v1/tasks/${id}`)).json<WireTask>().title).toBe('a'.repeat(499));
  });

  test('Capy: a 300 KB prompt is its 422 with the field errors in details, nothing stored', async () => {
    const project = (await e.call('POST', '/v1/projects', { key: `CR${backend.name.length}`, name: 'Rules' })).json<{
      id: string;
    }>();
    const before = await countOf('capy.task');
    const res = await e.call('POST', '/compat/capy/v1/tasks', { projectId: project.id, prompt: huge });
    expect(res.statusCode, res.body.slice(0, 200)).toBe(422);
    expect(res.json()).toEqual({
      error: {
        code: 'validation_error',
        message: expect.any(String),
        details: { errors: [{ path: '/input', message: 'larger than 262144 bytes' }] },
      },
    });
    expect(await countOf('capy.task')).toBe(before);
  });

  test('QuantCDN: completing with a 300 KB result is 413 PAYLOAD_TOO_LARGE, and the task stays in progress', async () => {
    const base = '/compat/quant/api/v3/organizations/default/ai/tasks';
    const id = (await e.call('POST', base, { title: 'Big result' })).json<{ taskId: string }>().taskId;
    expect((await e.call('PUT', `${base}/${id}`, { status: 'in_progress', assignedAgentId: 'a-1' })).statusCode).toBe(
      200,
    );
    const before = (await e.call('GET', `/v1/tasks/${id}`)).json<WireTask>();
    const res = await e.call('PUT', `${base}/${id}`, { status: 'completed', result: { text: huge } });
    expect(res.statusCode, res.body.slice(0, 200)).toBe(413);
    expect(res.json()).toEqual({ error: expect.stringMatching(/^\/result is \d+ bytes/), code: 'PAYLOAD_TOO_LARGE' });
    expect((await e.call('GET', `/v1/tasks/${id}`)).json()).toEqual(before);
  });
});
