/**
 * When each worker last polled each type (Conductor's poll data), kept in this node's memory.
 *
 * Why memory and not storage: a poll that finds nothing is the common case of an idle worker, and
 * recording every poll in storage would add a write to each of them, a cost the claim path must not
 * carry (a claim that takes tasks already writes, but one that takes none writes nothing). The claim
 * log (one row per type and claiming unit) has no worker and no empty polls, so it cannot answer this.
 * The limits, as docs/dialects.md says: each node knows the polls it served (behind a load balancer,
 * ask each node, or expect a partial answer), a restart forgets, and at most MAX_ENTRIES
 * (org, type, domain, worker) entries are kept, the least recently polled forgotten first.
 */

export interface PollRecord {
  type: string;
  /** The domain the worker polled in (Conductor's `domain`), or null. */
  domain: string | null;
  workerId: string;
  /** Epoch ms of its last poll. */
  lastPollTime: number;
}

export class PollLog {
  static readonly MAX_ENTRIES = 10_000;
  /** Insertion order is recency order: a poll moves its entry to the end. */
  private readonly entries = new Map<string, PollRecord & { orgId: string }>();

  constructor(private readonly maxEntries: number = PollLog.MAX_ENTRIES) {}

  record(orgId: string, types: readonly string[], workerId: string, domain: string | null, at: number): void {
    for (const type of types) {
      const key = JSON.stringify([orgId, type, domain, workerId]);
      this.entries.delete(key);
      this.entries.set(key, { orgId, type, domain, workerId, lastPollTime: at });
    }
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  /** The workers that polled `type` in `orgId`, most recent first. */
  of(orgId: string, type: string): PollRecord[] {
    const out: PollRecord[] = [];
    for (const e of this.entries.values()) {
      if (e.orgId === orgId && e.type === type) {
        out.push({ type: e.type, domain: e.domain, workerId: e.workerId, lastPollTime: e.lastPollTime });
      }
    }
    return out.reverse();
  }
}
