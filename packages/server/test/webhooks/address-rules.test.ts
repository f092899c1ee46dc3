/**
 * The address rules (docs/webhooks.md): every refused case at registration (400 URL_NOT_ALLOWED
 * naming the rule) and at connect time (an attempt that fails, nothing sent).
 */
import { describe, expect, it } from 'vitest';
import { checkTargetUrl, systemResolver, type Resolver } from '../../src/service/webhook-address.js';
import { sendWebhook } from '../../src/service/webhook-sender.js';
import { makeHarness } from '../helpers/http-harness.js';
import { startReceiver } from './receiver.js';

const resolveTo =
  (address: string): Resolver =>
  async () => [address];
const policy = { allowPrivate: false, resolve: resolveTo('93.184.215.14') };

describe('address rules', () => {
  it.each([
    ['http://127.0.0.1/', 'loopback'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::127.0.0.1]/', 'ipv4Compatible'],
    ['http://10.1.2.3/', 'private'],
    ['http://169.254.169.254/latest/meta-data', 'linkLocal'],
    ['http://[fc00::1]/', 'uniqueLocal'],
    ['http://0.0.0.0/', 'unspecified'],
    ['ftp://example.com/', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
  ])('refuses %s at registration (%s)', async (url, rule) => {
    const err = await checkTargetUrl(url, '/url', policy).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'URL_NOT_ALLOWED', status: 400 });
    expect((err as { errors: Array<{ message: string }> }).errors[0]!.message).toMatch(new RegExp(`^${rule}:`));
  });

  it('refuses a name that resolves to a loopback address (localhost)', async () => {
    await expect(
      checkTargetUrl('http://localhost:8080/', '/url', { allowPrivate: false, resolve: async () => ['127.0.0.1'] }),
    ).rejects.toMatchObject({ code: 'URL_NOT_ALLOWED' });
  });

  it("refuses localhost as this machine's own resolver resolves it", async () => {
    const err = await checkTargetUrl('http://localhost:8080/', '/url', {
      allowPrivate: false,
      resolve: systemResolver,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'URL_NOT_ALLOWED', status: 400 });
    expect((err as { errors: Array<{ message: string }> }).errors[0]!.message).toMatch(/^loopback:/);
  });

  it('accepts a public address, and anything with allowPrivate', async () => {
    await expect(checkTargetUrl('https://hooks.example.com/x', '/url', policy)).resolves.toBeUndefined();
    await expect(
      checkTargetUrl('http://127.0.0.1/', '/url', { ...policy, allowPrivate: true }),
    ).resolves.toBeUndefined();
  });

  it('fails an attempt whose name resolves privately at connect time, and sends nothing', async () => {
    const r = await startReceiver();
    try {
      const port = new URL(r.url).port;
      const out = await sendWebhook(
        `http://hooks.example.test:${port}/hook`,
        '{}',
        {},
        {
          allowPrivate: false,
          resolve: resolveTo('127.0.0.1'),
          timeoutMs: 2000,
        },
      );
      expect(out.httpStatus).toBeNull();
      expect(out.error).toMatch(/refused \(loopback\)/);
      const literal = await sendWebhook(r.url, '{}', {}, { ...policy, timeoutMs: 2000 });
      expect(literal.error).toMatch(/refused \(loopback\)/);
      expect(r.received).toHaveLength(0);
    } finally {
      await r.close();
    }
  });

  it('does not follow a redirect, even to a receiver that listens: a 3xx is a failed attempt', async () => {
    const r = await startReceiver();
    const target = await startReceiver();
    try {
      r.answers.push(302);
      r.location = target.url;
      const out = await sendWebhook(
        r.url,
        '{}',
        {},
        { allowPrivate: true, resolve: resolveTo('127.0.0.1'), timeoutMs: 2000 },
      );
      expect(out.httpStatus).toBe(302);
      expect(out.error).toBe('HTTP 302');
      expect(r.received).toHaveLength(1);
      expect(target.received).toHaveLength(0);
    } finally {
      await r.close();
      await target.close();
    }
  });

  it("resolves a batch's callback URL once however many tasks name it; the first refused item answers", async () => {
    const asked: string[] = [];
    const h = await makeHarness({
      webhooks: { allowPrivate: false, resolve: async (host) => (asked.push(host), ['93.184.215.14']) },
    });
    try {
      const callbackUrl = 'https://hooks.example.test/done';
      const tasks = Array.from({ length: 50 }, () => ({ type: 'batched', callbackUrl }));
      const ok = await h.call(h.a.admin, 'POST', '/v1/tasks/batch', { tasks });
      expect(ok.statusCode, ok.body).toBe(201);
      expect(asked).toEqual(['hooks.example.test']);

      const mixed = [{ type: 'b', callbackUrl }, { type: 'b' }, { type: 'b', callbackUrl: 'http://10.0.0.1/x' }];
      const refused = await h.call(h.a.admin, 'POST', '/v1/tasks/batch', { tasks: [...mixed, ...mixed] });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({
        code: 'URL_NOT_ALLOWED',
        errors: [{ path: '/tasks/2/callbackUrl', message: /^private:/ }],
      });
    } finally {
      await h.cleanup();
    }
  });
});
