/**
 * `tasklane work --type T [--concurrency N] -- COMMAND [ARGS]`: a worker in any language. For each
 * claimed task, COMMAND runs with the task's JSON on stdin; its stdout is the result (parsed as JSON
 * when it is JSON, else kept as a string), each line of its stderr becomes a step, and its exit code
 * decides: 0 completes the task, anything else fails it (retried per the task's policy). A task
 * canceled or lost while COMMAND runs gets SIGTERM sent to COMMAND.
 */
import { createWorker } from '@tasklane/sdk';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { CLIENT_HELP, CLIENT_OPTIONS, connect, parseOrUsage, usageError } from '../client-options.js';

const HELP = `Usage: tasklane work --type T [--type T2 …] [--concurrency N] [--lease-ms MS] [--worker-id ID] -- COMMAND [ARGS…]

Runs COMMAND once per claimed task: the task JSON on stdin, stdout = result (JSON if it parses),
stderr lines = steps, exit code 0 = complete, other = fail. SIGTERM/SIGINT: stop claiming, let running
commands finish (10 s), give back the rest.

  --type T          task type to claim (repeatable, required)
  --concurrency N   commands at once (default 1)
  --lease-ms MS     lease per claim, renewed by heartbeats (default 30000)
  --worker-id ID    name shown as the task's assignee (default: host and pid)

${CLIENT_HELP}`;

/** Output beyond this is cut (the server refuses results over 256 KiB anyway). */
const MAX_OUTPUT_BYTES = 256 * 1024;

export async function workCommand(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const command = dash === -1 ? [] : argv.slice(dash + 1);
  const { values } = parseOrUsage('work', () =>
    parseArgs({
      args: own,
      options: {
        ...CLIENT_OPTIONS,
        type: { type: 'string', multiple: true },
        concurrency: { type: 'string' },
        'lease-ms': { type: 'string' },
        'worker-id': { type: 'string' },
      },
      strict: true,
    }),
  );
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const types = values.type ?? [];
  if (types.length === 0) throw usageError('work', 'give at least one --type');
  const [program, ...args] = command;
  if (program === undefined) throw usageError('work', 'give the command to run after --');
  const concurrency = positiveInt('--concurrency', values.concurrency ?? '1');
  const leaseMs = positiveInt('--lease-ms', values['lease-ms'] ?? '30000');
  const client = connect('work', values);

  const worker = createWorker({
    client,
    types,
    concurrency,
    leaseMs,
    workerId: values['worker-id'] ?? `${process.env.HOSTNAME ?? 'host'}-${process.pid}`,
    onError: (err) => process.stderr.write(`tasklane work: ${err instanceof Error ? err.message : String(err)}\n`),
    handler: (task, ctx) =>
      new Promise((resolve, reject) => {
        const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
        const kill = () => child.kill('SIGTERM');
        ctx.signal.addEventListener('abort', kill, { once: true });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          if (out.length < MAX_OUTPUT_BYTES) out += chunk;
        });
        // Steps are sent as they come; the outcome waits for them, so none arrives after the task ended.
        const steps: Array<Promise<void>> = [];
        createInterface({ input: child.stderr }).on('line', (line) => {
          if (line.trim() !== '') steps.push(ctx.step(line.slice(0, 4000)));
        });
        child.stdin.on('error', () => undefined); // the command may exit without reading its input
        child.stdin.end(JSON.stringify(task));
        child.on('error', (err) => reject(Object.assign(err, { retryable: false })));
        child.on('close', (code, signal) => {
          ctx.signal.removeEventListener('abort', kill);
          void Promise.all(steps).then(() => {
            if (code === 0) return resolve(parseOutput(out));
            const tail = out.trim().slice(-500);
            const how = signal ?? `code ${code}`;
            reject(
              Object.assign(new Error(`${program} exited with ${how}${tail ? `: ${tail}` : ''}`), {
                code: 'COMMAND_FAILED',
              }),
            );
          });
        });
      }),
  });
  process.stderr.write(`tasklane work: claiming ${types.join(', ')} (concurrency ${concurrency}); Ctrl-C to stop\n`);
  await worker.done;
  return 0;
}

function parseOutput(out: string): unknown {
  const text = out.trim();
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usageError('work', `${flag} must be a positive integer, got '${value}'`);
  return n;
}
