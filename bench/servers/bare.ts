/**
 * Child process: the baseline. A bare Fastify app (the same fastify the server depends on, through
 * the workspace) with one route answering a fixed object, serialized by Fastify's default
 * (JSON.stringify) on every request. Same path shape as Tasklane's route; no auth, no schema,
 * no storage, no logger.
 */
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { announce, requiredEnv } from './child-ipc.js';

const body: unknown = JSON.parse(readFileSync(requiredEnv('BENCH_BODY_FILE'), 'utf8'));
const app = Fastify({ logger: false });
app.get('/v1/tasks/:taskId', async () => body);
const address = await app.listen({ host: '127.0.0.1', port: 0 });
announce(address, () => app.close());
