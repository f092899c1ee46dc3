/** `tasklane tasks bulk ACTION`: one action on many tasks, by id or by the list's filters (POST /v1/tasks/bulk). */
import { parseArgs } from 'node:util';
import {
  STATUS_VALUES,
  TASK_ACTIONS,
  type BulkActionRequest,
  type BulkActionResult,
  type TaskFilterParams,
} from '@tasklane/sdk';
import {
  CLIENT_HELP,
  CLIENT_OPTIONS,
  connect,
  integerFlag,
  oneOf,
  parseOrUsage,
  usageError,
  withApiErrors,
} from '../client-options.js';
import { out, printJson } from '../print.js';

export const BULK_HELP = `Usage: tasklane tasks bulk ACTION (--id ID ... | FILTERS) [options]

  ACTION                 ${TASK_ACTIONS.join(', ')}
  --id ID                repeatable, up to 1,000: the tasks (ids or identifiers such as OPS-42)

Or every task that matches, newest first, up to --limit per call:
  --status S             repeatable: ${STATUS_VALUES.join(', ')}
  --type T, --label L, --list-id ID, --project P, --assignee A
  --search TEXT          title contains TEXT (ASCII case ignored)
  --created-after T, --created-before T    RFC 3339 times
  --archived             archived tasks match too
  --limit N              1..1000 per call (default 1000)
  --cursor C             go on after a previous call
  --all                  call again until no more match

  --reason TEXT          recorded as a step of each task (the block reason for block)
  --requeue              with reject: back to the queue instead of failed
  --dry-run              only count what matches

Each task goes through the same rules as the single action; one that cannot take it is
listed with its error and the others go on. Exits 1 when any task was refused.

${CLIENT_HELP}`;

export async function bulkTasks(argv: string[]): Promise<number> {
  const command = 'tasks bulk';
  const { values, positionals } = parseOrUsage(command, () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...CLIENT_OPTIONS,
        id: { type: 'string', multiple: true },
        status: { type: 'string', multiple: true },
        type: { type: 'string' },
        label: { type: 'string' },
        'list-id': { type: 'string' },
        project: { type: 'string' },
        assignee: { type: 'string' },
        search: { type: 'string' },
        'created-after': { type: 'string' },
        'created-before': { type: 'string' },
        archived: { type: 'boolean' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        all: { type: 'boolean' },
        reason: { type: 'string' },
        requeue: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
      },
    }),
  );
  if (values.help) {
    out(BULK_HELP);
    return 0;
  }
  const [actionName, ...extra] = positionals;
  if (actionName === undefined) throw usageError(command, `give the ACTION (${TASK_ACTIONS.join(', ')})`);
  if (extra.length > 0) throw usageError(command, `one ACTION at a time (got ${positionals.length})`);
  const action = oneOf(command, 'action', actionName, TASK_ACTIONS);
  const filter: TaskFilterParams = {
    ...(values.status === undefined
      ? {}
      : { status: values.status.map((s) => oneOf(command, 'status', s, STATUS_VALUES)) }),
    ...(values.type === undefined ? {} : { type: values.type }),
    ...(values.label === undefined ? {} : { label: values.label }),
    ...(values['list-id'] === undefined ? {} : { listId: values['list-id'] }),
    ...(values.project === undefined ? {} : { projectId: values.project }),
    ...(values.assignee === undefined ? {} : { assignee: values.assignee }),
    ...(values.search === undefined ? {} : { q: values.search }),
    ...(values['created-after'] === undefined ? {} : { createdAfter: values['created-after'] }),
    ...(values['created-before'] === undefined ? {} : { createdBefore: values['created-before'] }),
    ...(values.archived ? { archived: true } : {}),
  };
  const byFilter = Object.keys(filter).length > 0;
  if ((values.id !== undefined) === byFilter) {
    throw usageError(command, 'give --id, or filters (--status, --type, ...), not both and not neither');
  }
  const limit = integerFlag(command, 'limit', values.limit);
  if (values.id !== undefined && (limit !== undefined || values.cursor !== undefined || values.all)) {
    throw usageError(command, '--limit, --cursor and --all go with filters, not with --id');
  }
  const base: BulkActionRequest = {
    action,
    ...(values.id === undefined ? { filter } : { ids: values.id }),
    ...(limit === undefined ? {} : { limit }),
    ...(values.reason === undefined ? {} : { reason: values.reason }),
    ...(values.requeue ? { requeue: true } : {}),
    ...(values['dry-run'] ? { dryRun: true } : {}),
  };
  const client = connect(command, values);

  // With --all, one call after another while more match; the answers add up to one.
  let cursor = values.cursor;
  const total: BulkActionResult = { results: [], matched: 0, hasMore: false, nextCursor: null };
  for (;;) {
    const page = await withApiErrors(() => client.tasks.bulk(cursor === undefined ? base : { ...base, cursor }));
    total.results.push(...page.results);
    total.matched += page.matched;
    total.hasMore = page.hasMore;
    total.nextCursor = page.nextCursor;
    if (!values.all || !page.hasMore || page.nextCursor === null || base.dryRun === true) break;
    cursor = page.nextCursor;
  }

  const refused = total.results.filter((r) => !r.ok);
  if (values.json) printJson(total);
  else out(describe(action, total, base.dryRun === true));
  return refused.length > 0 ? 1 : 0;
}

function describe(action: string, r: BulkActionResult, dryRun: boolean): string {
  const lines: string[] = [];
  const more = r.hasMore ? ' (more match)' : '';
  if (dryRun) lines.push(`${r.matched} task${r.matched === 1 ? '' : 's'} match${more}; nothing was changed.`);
  else {
    const ok = r.results.filter((x) => x.ok).length;
    lines.push(`${action}: ${ok} of ${r.matched} task${r.matched === 1 ? '' : 's'} done${more}.`);
    for (const x of r.results) if (!x.ok && x.error) lines.push(`  ${x.taskId}  ${x.error.code}: ${x.error.detail}`);
  }
  if (r.hasMore && r.nextCursor !== null) lines.push(`More: --cursor ${r.nextCursor} (or --all)`);
  return lines.join('\n');
}
