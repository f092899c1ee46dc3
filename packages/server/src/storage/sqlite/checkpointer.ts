/**
 * WAL checkpoints on a thread of their own.
 *
 * In WAL mode every commit appends pages to the -wal file, and a checkpoint copies them back into
 * the database file and fsyncs it. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses its threshold, on the connection that committed: here the writer, on the thread that
 * serves every request. An fsync blocks that thread for as long as the disk takes, and at 10,000
 * tasks/s the checkpoints cost about 5 µs of its time per task (measured by bench/store-cycle.ts).
 *
 * The checkpointer is a worker thread with a connection of its own that runs a PASSIVE checkpoint
 * every `intervalMs`: it copies what has committed, waits for no reader or writer, and leaves the
 * WAL to be restarted by the next write. The writer keeps an automatic checkpoint only as a safety
 * net, at a threshold the checkpointer never lets the WAL reach; if the thread stops, the writer's
 * usual threshold comes back.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** better-sqlite3, resolved here: the thread's code is a string and resolves nothing itself. */
const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

// CommonJS, evaluated by the worker (eval: true). A busy checkpoint (another checkpointer, such as
// a second store on the file) is left for the next tick; any other error ends the thread, and the
// store falls back to checkpointing on its writer.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
db.pragma('synchronous = NORMAL');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    if (err.code !== 'SQLITE_BUSY' && err.code !== 'SQLITE_LOCKED') throw err;
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
parentPort.postMessage('ready');
`;

export interface Checkpointer {
  /** Resolves once the thread has its connection open. */
  readonly ready: Promise<void>;
  /** A last checkpoint, then the thread ends. */
  stop(): Promise<void>;
}

/**
 * Start the thread for the database at `path`. `onExit` is called if the thread ends before
 * `stop` (an error), so the caller can checkpoint on its own again.
 */
export function startCheckpointer(path: string, intervalMs: number, onExit: (err: unknown) => void): Checkpointer {
  const worker = new Worker(THREAD, { eval: true, workerData: { driver: DRIVER, path, intervalMs } });
  let stopping = false;
  let failure: unknown = null;
  const exited = new Promise<void>((resolve) => {
    worker.once('error', (err) => (failure = err));
    worker.once('exit', (code) => {
      if (!stopping) onExit(failure ?? new Error(`the checkpoint thread exited with code ${code}`));
      resolve();
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    void exited.then(() => reject(failure ?? new Error('the checkpoint thread ended before it was ready')));
  });
  ready.catch(() => undefined); // reported through onExit
  // The thread never keeps the process alive: the store stops it on close.
  worker.unref();
  return {
    ready,
    async stop() {
      stopping = true;
      // Referenced again: a process with nothing else to do waits for the last checkpoint.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
