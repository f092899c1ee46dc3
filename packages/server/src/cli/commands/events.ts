/**
 * `tasklane events`: the org's events (SPEC §10), a page of them, or followed live with --follow
 * through the SDK's `events.stream` (which resumes by itself when the connection drops).
 */
import { parseArgs } from 'node:util';
import { EVENT_TYPES, type EventFilters, type StreamItem, type TasklaneClient } from '@tasklane/sdk';
import {
  CLIENT_HELP,
  CLIENT_OPTIONS,
  connect,
  integerFlag,
  oneOf,
  parseOrUsage,
  withApiErrors,
} from '../client-options.js';
import { out, printJson, shortTime, table } from '../print.js';
import { changeLine } from '../watch-view.js';

const HELP = `Usage: tasklane events [options]

Without --follow: one page of the org's retained events after --after (from the oldest), oldest
first. With --follow: the events from --after (default: from now) as they happen, until Ctrl-C
(exit 130); it resumes by itself when the connection drops.

  --type T               repeatable: ${EVENT_TYPES.join(', ')}
  --task-type T          only events of tasks of this type
  --list ID              only events of tasks in this list
  --project P            only events of tasks in this project (id or key)
  --after ID             only events after this event id
  --limit N              page size without --follow, 1..1000 (default 100)
  --follow, -f           follow live
  --json                 the page as JSON; with --follow, one JSON line per event

${CLIENT_HELP}`;

export async function eventsCommand(argv: string[]): Promise<number> {
  const command = 'events';
  const { values } = parseOrUsage(command, () =>
    parseArgs({
      args: argv,
      options: {
        ...CLIENT_OPTIONS,
        type: { type: 'string', multiple: true },
        'task-type': { type: 'string' },
        list: { type: 'string' },
        project: { type: 'string' },
        after: { type: 'string' },
        limit: { type: 'string' },
        follow: { type: 'boolean', short: 'f' },
      },
    }),
  );
  if (values.help) {
    out(HELP);
    return 0;
  }
  const types = values.type?.map((t) => oneOf(command, 'type', t, EVENT_TYPES));
  const after = integerFlag(command, 'after', values.after);
  const limit = integerFlag(command, 'limit', values.limit);
  const filters: EventFilters = {
    ...(types === undefined ? {} : { type: types }),
    ...(values['task-type'] === undefined ? {} : { taskType: values['task-type'] }),
    ...(values.list === undefined ? {} : { listId: values.list }),
    ...(values.project === undefined ? {} : { projectId: values.project }),
  };
  const client = connect(command, values);
  const json = values.json === true;
  if (values.follow === true) return follow(client, filters, after, json);

  const page = await withApiErrors(() => client.events.page({ ...filters, after: after ?? 0, limit: limit ?? 100 }));
  if (json) {
    printJson(page);
    return 0;
  }
  if (page.reset !== null)
    out(`Events after ${page.reset.after} are gone (${page.reset.reason}); the last is ${page.reset.lastId}.`);
  else if (page.items.length === 0) out('No events.');
  else out(table(['ID', 'TIME', 'TASK', 'CHANGE'], page.items.map(row)));
  if (page.items.length === (limit ?? 100)) out(`\nMore: --after ${page.nextAfter}`);
  return 0;
}

async function follow(client: TasklaneClient, filters: EventFilters, after: number | undefined, json: boolean) {
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  try {
    await withApiErrors(async () => {
      const options = {
        signal: interrupt.signal,
        ...(after === undefined ? {} : { after }),
        onReconnect: ({ delayMs, cause }: { delayMs: number; cause: unknown }) => {
          const why =
            cause === null ? 'the server ended the stream' : cause instanceof Error ? cause.message : String(cause);
          process.stderr.write(`tasklane: connection lost (${why}); resuming in ${(delayMs / 1000).toFixed(1)} s\n`);
        },
      };
      for await (const item of client.events.stream(filters, options)) {
        out(json ? JSON.stringify(item) : row(item).join('  '));
      }
    }).catch((err: unknown) => {
      if (!interrupt.signal.aborted) throw err;
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  return 130;
}

function row(item: StreamItem): string[] {
  if (item.type === 'reset') return ['-', '-', '-', changeLine(item) ?? ''];
  const change = changeLine(item) ?? `updated   (${item.type === 'task.updated' ? item.data.cause : ''})`;
  return [String(item.id), shortTime(item.time), item.taskId, change.replace(/ {2,}/g, '  ')];
}
