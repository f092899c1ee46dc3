/**
 * A delivery committed but not delivered survives SIGKILL: a real `tasklane serve` (SQLite data
 * folder, --webhook-allow-private) sends to a local receiver that answers 500, so the delivery
 * stays pending with one failed attempt; the server is SIGKILLed, the receiver now answers 200,
 * and the server restarted on the same data delivers the event with the same webhook-id, signed
 * with the endpoint's secret. Every wait is for a condition (the receiver's requests, the log).
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../webhooks/receiver.js';
import { assertBuilt, freePort, pollUntil, startServerProcess, stopAll, tempDir } from './harness.js';

let receiver: Receiver;
beforeAll(async () => {
  assertBuilt();
  receiver = await startReceiver();
});
afterAll(async () => {
  await stopAll();
  await receiver.close();
});

interface WireDelivery {
  id: string;
  status: string;
  attempts: Array<{ httpStatus: number | null }>;
}

describe('reliability: webhooks across a server kill', () => {
  it('delivers after SIGKILL and restart, with the webhook-id of the failed attempt', async () => {
    const port = await freePort();
    const dataDir = tempDir('webhook-kill');
    const args = ['--webhook-allow-private'];
    const first = await startServerProcess({ port, dataDir, name: 'server (first run)', args });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${first.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${first.rootKey}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    // Every answer a 500 until the restart: the first attempt (and any retry) fails.
    receiver.answers.push(...Array<number>(100).fill(500));

    const hook = await call('POST', '/v1/webhooks', { url: receiver.url, events: ['task.created'] });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const { id: hookId, secret } = hook.body as { id: string; secret: string };
    const task = await call('POST', '/v1/tasks', { type: 'killed' });
    expect(task.status).toBe(201);

    // The failed attempt is recorded (committed) before the kill: the delivery is pending.
    const failed = await pollUntil(
      'a failed attempt recorded',
      async () => {
        const page = await call('GET', `/v1/webhooks/${hookId}/deliveries`);
        const [d] = (page.body as { items: WireDelivery[] }).items;
        return d !== undefined && d.attempts.length > 0 ? d : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(failed).toMatchObject({ status: 'pending', attempts: [{ httpStatus: 500 }] });
    expect(await first.kill('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });

    const refused = receiver.received.length;
    expect(refused).toBeGreaterThan(0);
    receiver.answers.length = 0;
    await startServerProcess({ port, dataDir, name: 'server (restarted)', args });
    // The retry schedule's first pause is 5 s ±20%.
    await pollUntil('the delivery after the restart', async () => receiver.received.length > refused || undefined, {
      timeoutMs: 20_000,
    });

    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    expect([...ids]).toEqual([failed.id]);
    const delivered = receiver.received.at(-1)!;
    const event = new Webhook(secret).verify(delivered.body, delivered.headers) as { type: string; taskId: string };
    expect(event).toMatchObject({ type: 'task.created', taskId: (task.body as { id: string }).id });
    const page = await call('GET', `/v1/webhooks/${hookId}/deliveries`);
    expect((page.body as { items: WireDelivery[] }).items).toMatchObject([{ id: failed.id, status: 'delivered' }]);
  });
});
