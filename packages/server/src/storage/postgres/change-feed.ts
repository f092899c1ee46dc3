/**
 * Committed changes between nodes: each unit NOTIFYs its changes on one channel (inside the unit,
 * so they are delivered at its commit and never for a rollback), and each store keeps one LISTEN
 * connection of its own, outside the pool. Notifications are tagged with the sending store's node
 * id (its own are ignored: local listeners heard them at commit) and schema (stores of other
 * schemas in the same database share the channel). A lost connection is reopened with backoff; a
 * notification lost meanwhile only delays a waiter, which has its own poll fallback.
 */
import { Client, type ClientConfig, type Notification } from 'pg';
import type { TaskStatus } from '../../domain/status.js';
import type { TaskChange } from '../task-store.js';

export const CHANNEL = 'tasklane_changes';

/** NOTIFY payloads must stay under 8000 bytes; a unit's changes are split into chunks below this. */
const MAX_PAYLOAD_BYTES = 7000;

type WireChange = [
  orgId: string,
  taskId: string,
  type: string,
  version: number,
  status: TaskStatus,
  runAt: number | null,
];
interface Payload {
  /** Node id of the sending store. */
  n: string;
  /** Schema. */
  s: string;
  c: WireChange[];
  /** 1: the unit wrote webhook deliveries (encodeOutboxWake). */
  w?: 1;
}

/** The payloads announcing `changes`, each small enough for one NOTIFY. */
export function encodeChanges(nodeId: string, schema: string, changes: readonly TaskChange[]): string[] {
  const head = `{"n":${JSON.stringify(nodeId)},"s":${JSON.stringify(schema)},"c":[`;
  const payloads: string[] = [];
  let items: string[] = [];
  let bytes = Buffer.byteLength(head) + 2;
  for (const c of changes) {
    const wire: WireChange = [c.orgId, c.taskId, c.type, c.version, c.status, c.runAt];
    const item = JSON.stringify(wire);
    const size = Buffer.byteLength(item) + 1;
    if (items.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) {
      payloads.push(`${head}${items.join(',')}]}`);
      items = [];
      bytes = Buffer.byteLength(head) + 2;
    }
    items.push(item);
    bytes += size;
  }
  if (items.length > 0) payloads.push(`${head}${items.join(',')}]}`);
  return payloads;
}

/**
 * The payload telling other nodes that a unit wrote webhook deliveries, sent by the events'
 * statement itself only when it wrote some (pg-events.ts): their dispatchers wake for it.
 */
export function encodeOutboxWake(nodeId: string, schema: string): string {
  return `{"n":${JSON.stringify(nodeId)},"s":${JSON.stringify(schema)},"c":[],"w":1}`;
}

function decode(payload: string): Payload | null {
  try {
    const p = JSON.parse(payload) as Payload;
    return typeof p.n === 'string' && typeof p.s === 'string' && Array.isArray(p.c) ? p : null;
  } catch {
    return null;
  }
}

export interface ChangeFeedOptions {
  connection: ClientConfig;
  nodeId: string;
  schema: string;
  /** Called with the changes another node committed on this schema. */
  onChanges: (changes: TaskChange[]) => void;
  /** Called when another node committed webhook deliveries on this schema. */
  onOutboxWake: () => void;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export class ChangeFeed {
  private client: Client | null = null;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  /** How this store's own payloads begin (see encodeChanges): those are skipped unparsed. */
  private readonly ownPrefix: string;

  constructor(private readonly opts: ChangeFeedOptions) {
    this.ownPrefix = `{"n":${JSON.stringify(opts.nodeId)},`;
  }

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client(this.opts.connection);
    this.client = client;
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => undefined);
      this.retryLater();
    };
    // Registered before connecting: an error event without a listener would crash the process.
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (msg: Notification) => this.receive(msg));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.failures = 0;
    } catch {
      onLost();
    }
    if (this.stopped && this.client === client) await this.stop();
  }

  private retryLater(): void {
    if (this.stopped) return;
    const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.failures++);
    // Jittered, so nodes that lost the database together do not return in lockstep.
    this.timer = setTimeout(() => void this.connect(), ceiling / 2 + (Math.random() * ceiling) / 2);
    this.timer.unref();
  }

  private receive(msg: Notification): void {
    if (msg.channel !== CHANNEL || msg.payload === undefined || msg.payload.startsWith(this.ownPrefix)) return;
    const p = decode(msg.payload);
    if (p === null || p.n === this.opts.nodeId || p.s !== this.opts.schema) return;
    if (p.w === 1) this.opts.onOutboxWake();
    if (p.c.length === 0) return;
    const changes = p.c.map(([orgId, taskId, type, version, status, runAt]) => ({
      orgId,
      taskId,
      type,
      version,
      status,
      runAt,
    }));
    this.opts.onChanges(changes);
  }
}
