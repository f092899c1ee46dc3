/**
 * Client traffic for the fault tests: creates, claims and completes through given nodes, every
 * request logged with its answer and timing, every 201 create and every lease remembered, so a
 * test can tell what was acknowledged before, during and after an outage.
 */
import { call, type Answer, type PgNode, type WireTask } from './cluster.js';

export interface Logged {
  node: string;
  kind: string;
  answer: Answer;
}

/** A client's pause after a failed request, so that an outage is not a busy loop. */
const backOff = () => new Promise<void>((resolve) => setTimeout(resolve, 50));

export class Traffic {
  /** Every request made through this object, with its answer. */
  readonly log: Logged[] = [];
  /** Every task of `type` a create answered 201 for. */
  readonly created = new Set<string>();
  /** The latest lease expiry a claim answered with (epoch ms). */
  lastLeaseExpiry = 0;

  constructor(
    readonly type: string,
    private readonly leaseMs: number,
  ) {}

  async logged<T>(n: PgNode, kind: string, request: Promise<Answer<T>>): Promise<Answer<T>> {
    const answer = await request;
    this.log.push({ node: n.name, kind, answer });
    return answer;
  }

  async create(n: PgNode, type = this.type): Promise<Answer<WireTask>> {
    const answer = await this.logged(n, 'create', call<WireTask>(n, 'POST', '/v1/tasks', { body: { type } }));
    if (answer.status === 201 && type === this.type) this.created.add(answer.body.id);
    return answer;
  }

  async claim(n: PgNode, waitMs: number, limit = 2): Promise<Answer<{ tasks: WireTask[] }>> {
    const answer = await this.logged(
      n,
      waitMs > 0 ? 'long-poll claim' : 'claim',
      call<{ tasks: WireTask[] }>(n, 'POST', '/v1/tasks/claim', {
        body: { types: [this.type], workerId: `${n.name}-worker`, limit, waitMs, leaseMs: this.leaseMs },
      }),
    );
    if (answer.status === 200) {
      for (const t of answer.body.tasks) {
        this.lastLeaseExpiry = Math.max(this.lastLeaseExpiry, Date.parse(t.lease!.expiresAt));
      }
    }
    return answer;
  }

  complete(n: PgNode, t: WireTask): Promise<Answer> {
    return this.logged(
      n,
      'complete',
      call(n, 'POST', `/v1/tasks/${t.id}/complete`, { body: { leaseId: t.lease?.id } }),
    );
  }

  /** Two creators and a worker per node, until stopped: an outage lands in the middle of real work. */
  start(nodes: PgNode[]): { stop: () => Promise<void> } {
    let stopped = false;
    const creator = async (n: PgNode) => {
      while (!stopped) if ((await this.create(n)).status !== 201) await backOff();
    };
    const worker = async (n: PgNode) => {
      while (!stopped) {
        const got = await this.claim(n, 200);
        if (got.status !== 200) await backOff();
        for (const t of got.status === 200 ? got.body.tasks : []) await this.complete(n, t);
      }
    };
    const loops = nodes.flatMap((n) => [creator(n), creator(n), worker(n)]);
    return {
      stop: async () => {
        stopped = true;
        await Promise.all(loops);
      },
    };
  }
}
