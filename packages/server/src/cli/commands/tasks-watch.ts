/**
 * `tasklane tasks watch ID`: follows one task live through its event stream (the SDK's
 * `tasks.watch`, which resumes by itself when the connection drops) until it is terminal, then
 * prints its result or error. The exit code says how it ended (WATCH_EXIT).
 */
import { parseArgs } from 'node:util';
import { TasklaneApiError, type Task, type TasklaneClient } from '@tasklane/sdk';
import { CLIENT_HELP, CLIENT_OPTIONS, connect, parseOrUsage, usageError, withApiErrors } from '../client-options.js';
import { out, truncate } from '../print.js';
import { watchView } from '../watch-view.js';

/** How a watch ends: by the task's final status, or by Ctrl-C. API and usage errors stay 1 and 2. */
export const WATCH_EXIT = { completed: 0, failed: 1, canceled: 3, interrupted: 130 } as const;

const WATCH_HELP = `Usage: tasklane tasks watch ID [--json]

Follows the task live until it is completed, failed or canceled: a progress bar with the
progress message on a terminal (plain lines otherwise), each step as it arrives, then the result
or the error. Resumes by itself when the connection drops.

  ID                     task id, or identifier such as OPS-42
  --json                 one JSON line per event as it comes, then the task as one line

Exit codes: 0 completed, 1 failed (or an API error, or the task was deleted), 2 usage,
3 canceled, 130 interrupted (Ctrl-C).

${CLIENT_HELP}`;

export async function watchTask(argv: string[]): Promise<number> {
  const command = 'tasks watch';
  const { values, positionals } = parseOrUsage(command, () =>
    parseArgs({ args: argv, allowPositionals: true, options: CLIENT_OPTIONS }),
  );
  if (values.help) {
    out(WATCH_HELP);
    return 0;
  }
  const [id, ...extra] = positionals;
  if (id === undefined) throw usageError(command, 'give the task ID');
  if (extra.length > 0) throw usageError(command, `one task ID at a time (got ${positionals.length})`);
  const client = connect(command, values);

  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  try {
    return await withApiErrors(() => follow(client, id, values.json === true, interrupt.signal));
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function follow(client: TasklaneClient, id: string, json: boolean, signal: AbortSignal): Promise<number> {
  const view = json ? null : watchView();
  let deleted = false;
  /** The last status the events told: the watch ends at a terminal one. */
  let status: string | null = null;
  try {
    view?.show(await client.tasks.get(id, { signal }));
    const onReconnect = (r: { delayMs: number; cause: unknown }) => view?.reconnecting(r.delayMs, r.cause);
    for await (const item of client.tasks.watch(id, { signal, onReconnect })) {
      if (item.type === 'task.deleted') deleted = true;
      if (item.type === 'task.status_changed') status = item.data.to;
      if (item.type === 'reset') {
        // The events in between are gone, and with them the status they told: the task's own
        // status (as loaded now, or at the end) stands until an event tells another.
        const now = await client.tasks.get(id, { signal });
        status = now.status;
        view?.show(now);
      }
      if (json) out(JSON.stringify(item));
      view?.item(item);
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  } finally {
    view?.stop();
  }
  if (signal.aborted) return WATCH_EXIT.interrupted;
  const task = deleted ? null : await taskOrNull(client, id);
  if (task === null) {
    process.stderr.write(`tasklane: task ${id} was deleted\n`);
    return 1;
  }
  if (json) out(JSON.stringify(task));
  else out(outcome(task));
  // The status the watch ended at (the task may have been retried since), else the task's own.
  const final = status ?? task.status;
  return final === 'completed' || final === 'failed' || final === 'canceled' ? WATCH_EXIT[final] : 1;
}

async function taskOrNull(client: TasklaneClient, id: string): Promise<Task | null> {
  try {
    return await client.tasks.get(id);
  } catch (err) {
    if (err instanceof TasklaneApiError && err.status === 404) return null;
    throw err;
  }
}

/** The end, for people: the result, or the error. */
function outcome(task: Task): string {
  const name = task.identifier ?? task.id;
  if (task.status === 'completed') {
    const result = task.result === null || task.result === undefined ? '' : JSON.stringify(task.result, null, 2);
    return `${name} completed.${result === '' ? '' : `\nresult    ${truncate(result, 4000)}`}`;
  }
  if (task.status === 'failed') {
    const e = task.error;
    return `${name} failed.${e === null ? '' : `\nerror     ${e.code}: ${e.message}`}`;
  }
  return `${name} ${task.status}.`;
}
