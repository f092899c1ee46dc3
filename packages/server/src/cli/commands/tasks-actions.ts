/** `tasklane tasks cancel|retry|approve|reject ID`: one action on one task, through the SDK. */
import { parseArgs } from 'node:util';
import type { TaskActionInput } from '@tasklane/sdk';
import { CLIENT_HELP, CLIENT_OPTIONS, connect, parseOrUsage, usageError, withApiErrors } from '../client-options.js';
import { out, printJson, taskSummary } from '../print.js';

type ActionName = 'cancel' | 'retry' | 'approve' | 'reject';

const WHAT: Record<ActionName, { summary: string; done: string; reason: boolean; requeue: boolean }> = {
  cancel: { summary: 'Cancel an active task', done: 'Canceled', reason: true, requeue: false },
  retry: { summary: 'Run a failed or canceled task again', done: 'Retried', reason: false, requeue: false },
  approve: { summary: 'Approve a task waiting for review', done: 'Approved', reason: true, requeue: false },
  reject: {
    summary: 'Reject a task waiting for review: it fails with REJECTED, or goes back to the queue (--requeue)',
    done: 'Rejected',
    reason: true,
    requeue: true,
  },
};

function help(action: ActionName): string {
  const w = WHAT[action];
  return `Usage: tasklane tasks ${action} ID${w.reason ? ' [--reason TEXT]' : ''}${w.requeue ? ' [--requeue]' : ''}

${w.summary}.

  ID                     task id, or identifier such as OPS-42${w.reason ? '\n  --reason TEXT          why (kept on the task and its events)' : ''}${w.requeue ? '\n  --requeue              back to the queue instead of failing' : ''}

${CLIENT_HELP}`;
}

async function act(action: ActionName, argv: string[]): Promise<number> {
  const command = `tasks ${action}`;
  const w = WHAT[action];
  const { values, positionals } = parseOrUsage(command, () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...CLIENT_OPTIONS,
        ...(w.reason ? { reason: { type: 'string' } } : {}),
        ...(w.requeue ? { requeue: { type: 'boolean' } } : {}),
      } as const,
    }),
  );
  if (values.help) {
    out(help(action));
    return 0;
  }
  const [id, ...extra] = positionals;
  if (id === undefined) throw usageError(command, 'give the task ID');
  if (extra.length > 0) throw usageError(command, `one task ID at a time (got ${positionals.length})`);
  const reason = values.reason;
  if (typeof reason === 'string' && reason === '') throw usageError(command, '--reason must not be empty');
  const body: TaskActionInput = {
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(values.requeue === true ? { requeue: true } : {}),
  };
  const client = connect(command, values);
  const task = await withApiErrors(() => client.tasks.action(id, action, body));
  if (values.json) printJson(task);
  else out(`${w.done} task ${task.identifier ?? task.id}.\n\n${taskSummary(task)}`);
  return 0;
}

export const taskActions: Record<ActionName, (argv: string[]) => Promise<number>> = {
  cancel: (argv) => act('cancel', argv),
  retry: (argv) => act('retry', argv),
  approve: (argv) => act('approve', argv),
  reject: (argv) => act('reject', argv),
};
