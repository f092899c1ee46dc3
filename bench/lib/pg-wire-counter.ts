/**
 * A TCP proxy in front of PostgreSQL that counts what clients send, by frontend message type
 * (protocol v3): simple queries ('Q'), extended-protocol executions ('E') and syncs ('S'). A client
 * waits for an answer after each 'Q' or 'S', so Q + S is the number of round trips, and Q + E
 * roughly the number of statements. Used by `e2e-throughput.ts --count-queries`; the extra hop
 * slows every round trip, so figures measured through it are for counting, not for speed.
 */
import net from 'node:net';

export interface WireCounts {
  roundTrips: number;
  statements: number;
  /** Bytes sent by clients and by the server. */
  bytesUp: number;
  bytesDown: number;
  connections: number;
}

export interface WireCounter {
  /** postgres://USER@127.0.0.1:PORT, to use instead of the real server URL (same user). */
  url: string;
  counts(): WireCounts;
  close(): Promise<void>;
}

export async function startWireCounter(serverUrl: string): Promise<WireCounter> {
  const target = new URL(serverUrl);
  const counts: WireCounts = { roundTrips: 0, statements: 0, bytesUp: 0, bytesDown: 0, connections: 0 };
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    counts.connections++;
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let pending: Buffer = Buffer.alloc(0);
    let startup = true;
    client.on('data', (chunk: Buffer) => {
      counts.bytesUp += chunk.length;
      upstream.write(chunk);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      for (;;) {
        if (startup) {
          // StartupMessage / SSLRequest: int32 length (itself included), no type byte.
          if (pending.length - at < 4) break;
          const len = pending.readInt32BE(at);
          if (pending.length - at < len) break;
          const code = pending.readInt32BE(at + 4);
          at += len;
          if (code !== 80877103) startup = false; // after an SSLRequest the startup message follows
          continue;
        }
        if (pending.length - at < 5) break;
        const type = String.fromCharCode(pending[at] as number);
        const len = pending.readInt32BE(at + 1);
        if (pending.length - at < len + 1) break;
        if (type === 'Q') {
          counts.roundTrips++;
          counts.statements++;
        } else if (type === 'S') counts.roundTrips++;
        else if (type === 'E') counts.statements++;
        at += len + 1;
      }
      pending = pending.subarray(at);
    });
    upstream.on('data', (chunk: Buffer) => {
      counts.bytesDown += chunk.length;
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as net.AddressInfo).port;
  const user = target.username === '' ? '' : `${target.username}${target.password ? `:${target.password}` : ''}@`;
  return {
    url: `postgres://${user}127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
