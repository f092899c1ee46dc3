/**
 * A TCP proxy to PostgreSQL that a test can break in three ways:
 * - `cut()`: every connection through it destroyed and new ones refused (it stops listening), as
 *   when the database stops; `restore()` listens on the same port again.
 * - `freeze()`: nothing passes any more, but no connection is closed and new ones are accepted and
 *   left waiting, as when the network between drops packets; `thaw()` lets everything through.
 * - `mute(port)`: what the database sends on one connection stops arriving, silently (a LISTEN
 *   connection then misses every notification without knowing it); `unmute(port)` delivers it.
 * It remembers the local port of every connection it opened to the database, which is the
 * `client_port` PostgreSQL shows for it in pg_stat_activity.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket | null;
}

export class TcpProxy {
  /** Local ports of the proxy's connections to the database, ever opened. */
  readonly upstreamPorts = new Set<number>();
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  private frozen = false;
  /** Byte strings looked for in what nodes send to the database, with how often each was seen. */
  private readonly watches = new Map<string, { seen: number; tail: string }>();

  private constructor(
    private bound: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** A proxy on a free port forwarding to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(0, target);
    proxy.bound = await proxy.listen(0);
    return proxy;
  }

  /** The port it listens on (the same again after a restore). */
  get port(): number {
    return this.bound;
  }

  /** Connections to the database open right now. */
  get connections(): number {
    return [...this.pairs].filter((p) => p.upstream !== null).length;
  }

  /**
   * Count from now on how often `text` goes to the database (statement parameters travel as text:
   * a task id, a type name), which tells a test what a node asked the database.
   */
  watch(text: string): void {
    this.watches.set(text, { seen: 0, tail: '' });
  }

  /** How many times `text` went to the database since watch(text). */
  sent(text: string): number {
    return this.watches.get(text)?.seen ?? 0;
  }

  /** Stop looking for `text`. */
  forget(text: string): void {
    this.watches.delete(text);
  }

  /** Every connection through the proxy dropped at once; new ones refused until restore(). */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const p of [...this.pairs]) this.drop(p);
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    if (this.server === null) this.bound = await this.listen(this.bound);
  }

  /** Nothing passes either way and nothing is closed; new connections wait, unanswered. */
  freeze(): void {
    this.frozen = true;
    for (const p of this.pairs) {
      p.client.unpipe();
      p.upstream?.unpipe();
      p.client.pause();
      p.upstream?.pause();
    }
  }

  /** What waited passes, in order; connections accepted while frozen reach the database now. */
  thaw(): void {
    this.frozen = false;
    for (const p of this.pairs) {
      if (p.upstream === null) this.open(p);
      else this.join(p, p.upstream);
    }
  }

  /** What the database sends on the connection whose local port is `port` is held back. */
  mute(port: number): void {
    const p = this.pairOf(port);
    p.upstream?.unpipe(p.client);
    p.upstream?.pause();
  }

  unmute(port: number): void {
    const p = this.pairOf(port);
    p.upstream?.pipe(p.client);
    p.upstream?.resume();
  }

  private pairOf(port: number): Pair {
    const p = [...this.pairs].find((x) => x.upstream?.localPort === port);
    if (p === undefined) throw new Error(`no connection through the proxy from local port ${port}`);
    return p;
  }

  async close(): Promise<void> {
    this.frozen = false;
    await this.cut();
  }

  private listen(port: number): Promise<number> {
    const server = createServer((client) => this.accept(client));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        this.server = server;
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  private accept(client: Socket): void {
    if (this.server === null) {
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: null };
    this.pairs.add(pair);
    client.on('error', () => this.drop(pair));
    client.on('close', () => this.drop(pair));
    client.on('data', (chunk: Buffer) => this.scan(chunk));
    if (this.frozen) client.pause();
    else this.open(pair);
  }

  private open(pair: Pair): void {
    const upstream = connect(this.target.port, this.target.host);
    pair.upstream = upstream;
    upstream.once('connect', () => {
      if (upstream.localPort !== undefined) this.upstreamPorts.add(upstream.localPort);
    });
    upstream.on('error', () => this.drop(pair));
    upstream.on('close', () => this.drop(pair));
    this.join(pair, upstream);
  }

  private join(pair: Pair, upstream: Socket): void {
    pair.client.pipe(upstream);
    upstream.pipe(pair.client);
  }

  private scan(chunk: Buffer): void {
    if (this.watches.size === 0) return;
    const text = chunk.toString('latin1');
    for (const [needle, w] of this.watches) {
      // The tail of the previous chunk, shorter than the needle: a match across chunks, never twice.
      const hay = w.tail + text;
      for (let at = hay.indexOf(needle); at !== -1; at = hay.indexOf(needle, at + needle.length)) w.seen++;
      w.tail = hay.slice(Math.max(0, hay.length - needle.length + 1));
    }
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
