/**
 * Seeds a fresh data dir through the real HTTP API (POST /v1/tasks/batch, 1,000 tasks a request),
 * with an in-process server that is closed afterwards: the measured server starts on its own.
 * Every task has the same shape and fixed-width values, so every GET body has the same size.
 */
import { loadConfig } from '../../packages/server/dist/config/config.js';
import { startServer } from '../../packages/server/dist/server.js';

export const BATCH_SIZE = 1000;

export interface Seeded {
  rootKey: string;
  /** Every task id, in creation order. */
  ids: string[];
  seconds: number;
}

/** One realistic task: an email job with a few hundred bytes of input. */
export function taskInput(n: number) {
  const no = String(n).padStart(7, '0');
  return {
    type: 'email.send',
    title: `Send the onboarding email to customer ${no}`,
    input: {
      to: `customer-${no}@example.com`,
      template: 'onboarding-welcome-v3',
      locale: 'en-GB',
      vars: { firstName: 'Ada', lastName: 'Lovelace', plan: 'team', trialDays: 14, referrer: `ref-${no}` },
      tracking: { campaign: 'spring-onboarding', source: 'signup-form', medium: 'email' },
      attachments: [{ name: 'getting-started.pdf', url: `https://cdn.example.com/docs/getting-started.pdf?c=${no}` }],
    },
    priority: 5,
    maxRetries: 3,
    createdBy: 'signup-service',
    metadata: { tenant: 'acme', region: 'eu-west-1', customerNo: no },
    labels: ['email', 'onboarding'],
  };
}

export async function seedTasks(dataDir: string, count: number, onProgress: (done: number) => void): Promise<Seeded> {
  const started = performance.now();
  const server = await startServer(loadConfig({}, { port: '0', dataDir, logLevel: 'silent', rateLimit: '0' }));
  try {
    if (server.rootKey === null) throw new Error(`${dataDir} already holds a database; seeding needs an empty dir.`);
    const ids: string[] = [];
    for (let from = 0; from < count; from += BATCH_SIZE) {
      const tasks = Array.from({ length: Math.min(BATCH_SIZE, count - from) }, (_, i) => taskInput(from + i));
      const res = await fetch(`${server.url}/v1/tasks/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tasks }),
      });
      if (res.status !== 201) throw new Error(`POST /v1/tasks/batch answered ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { tasks: { id: string }[] };
      for (const t of body.tasks) ids.push(t.id);
      onProgress(ids.length);
    }
    return { rootKey: server.rootKey, ids, seconds: (performance.now() - started) / 1000 };
  } finally {
    await server.close();
  }
}
