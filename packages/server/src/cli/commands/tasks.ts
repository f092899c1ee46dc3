/** `tasklane tasks create|get|list|watch|bulk|…`: create, follow and act on tasks, through the SDK. */
import { parseArgs } from 'node:util';
import { STATUSES, type Task, type TaskCreate, type TaskList, type TaskListParams } from '@tasklane/sdk';
import {
  dispatch,
  CLIENT_HELP,
  CLIENT_OPTIONS,
  connect,
  integerFlag,
  oneOf,
  parseOrUsage,
  usageError,
  withApiErrors,
} from '../client-options.js';
import { out, printJson, taskSummary, taskTable } from '../print.js';
import { taskActions } from './tasks-actions.js';
import { bulkTasks } from './tasks-bulk.js';
import { watchTask } from './tasks-watch.js';

const HELP = `Usage: tasklane tasks <command> [options]

Commands:
  create --type T [...]   Create a task
  get ID [--wait S]       Show a task (by id or identifier such as OPS-42)
  list [...]              List tasks, newest first
  watch ID                Follow a task live until it ends (exit 0 completed, 1 failed, 3 canceled)
  cancel ID [--reason R]  Cancel a task
  retry ID                Run a failed or canceled task again
  approve ID              Approve a task waiting for review
  reject ID [--reason R]  Reject a task waiting for review
  bulk ACTION [...]       Cancel, retry, archive, ... many tasks at once (by id or filter)

Run 'tasklane tasks <command> --help' for a command's options.

${CLIENT_HELP}`;

const CREATE_HELP = `Usage: tasklane tasks create --type T [options]

  --type T               the kind of work (required)
  --title TEXT           defaults to the type
  --input JSON           the task's input, as JSON
  --priority N           -1000..1000, higher first (default 0); negative as --priority=-5
  --label L              repeatable
  --list-id ID           group it with related tasks
  --project P            project id or key (the task gets an identifier such as OPS-1)
  --depends-on ID        repeatable: runs once these tasks complete
  --delay-ms N           not claimable before N ms from now
  --idempotency-key K    the same key and body give the same task again
  --no-start             create it in the backlog

${CLIENT_HELP}`;

const GET_HELP = `Usage: tasklane tasks get ID [--wait SECONDS]

  ID                     task id, or identifier such as OPS-42
  --wait SECONDS         hold up to SECONDS (≤ 60) for the task to finish

${CLIENT_HELP}`;

const LIST_HELP = `Usage: tasklane tasks list [options]

  --status S             repeatable: ${STATUSES.join(', ')}
  --type T               only this type
  --label L              only tasks with this label
  --search TEXT          only tasks whose title contains TEXT (ASCII case ignored)
  --limit N              page size, 1..200 (default 50; with --all, 200)
  --cursor C             the page after a previous list
  --all                  every page

${CLIENT_HELP}`;

export function tasksCommand(argv: string[]): Promise<number> {
  return dispatch(
    'tasks',
    HELP,
    { create: createTask, get: getTask, list: listTasks, watch: watchTask, bulk: bulkTasks, ...taskActions },
    argv,
  );
}

async function createTask(argv: string[]): Promise<number> {
  const command = 'tasks create';
  const { values } = parseOrUsage(command, () =>
    parseArgs({
      args: argv,
      allowNegative: true,
      options: {
        ...CLIENT_OPTIONS,
        type: { type: 'string' },
        title: { type: 'string' },
        input: { type: 'string' },
        priority: { type: 'string' },
        label: { type: 'string', multiple: true },
        'list-id': { type: 'string' },
        project: { type: 'string' },
        'depends-on': { type: 'string', multiple: true },
        'delay-ms': { type: 'string' },
        'idempotency-key': { type: 'string' },
        start: { type: 'boolean', default: true },
      },
    }),
  );
  if (values.help) return help(CREATE_HELP);
  if (values.type === undefined) throw usageError(command, '--type is required');
  const priority = integerFlag(command, 'priority', values.priority);
  const delayMs = integerFlag(command, 'delay-ms', values['delay-ms']);
  const body: TaskCreate = {
    type: values.type,
    ...(values.title === undefined ? {} : { title: values.title }),
    ...(values.input === undefined ? {} : { input: parseJsonFlag(command, 'input', values.input) }),
    ...(priority === undefined ? {} : { priority }),
    ...(values.label === undefined ? {} : { labels: values.label }),
    ...(values['list-id'] === undefined ? {} : { listId: values['list-id'] }),
    ...(values.project === undefined ? {} : { projectId: values.project }),
    ...(values['depends-on'] === undefined ? {} : { dependsOn: values['depends-on'] }),
    ...(delayMs === undefined ? {} : { delayMs }),
    ...(values.start ? {} : { start: false }),
  };
  const idempotencyKey = values['idempotency-key'];
  const client = connect(command, values);
  const task = await withApiErrors(() =>
    client.tasks.create(body, idempotencyKey === undefined ? {} : { idempotencyKey }),
  );
  if (values.json) printJson(task);
  else out(`Created task ${task.identifier ?? task.id}.\n\n${taskSummary(task)}`);
  return 0;
}

async function getTask(argv: string[]): Promise<number> {
  const command = 'tasks get';
  const { values, positionals } = parseOrUsage(command, () =>
    parseArgs({ args: argv, allowPositionals: true, options: { ...CLIENT_OPTIONS, wait: { type: 'string' } } }),
  );
  if (values.help) return help(GET_HELP);
  const [id, ...extra] = positionals;
  if (id === undefined) throw usageError(command, 'give the task ID');
  if (extra.length > 0) throw usageError(command, `one task ID at a time (got ${positionals.length})`);
  const wait = integerFlag(command, 'wait', values.wait);
  const client = connect(command, values);
  const task: Task = await withApiErrors(() => client.tasks.get(id, wait === undefined ? {} : { wait }));
  if (values.json) printJson(task);
  else out(taskSummary(task));
  return 0;
}

async function listTasks(argv: string[]): Promise<number> {
  const command = 'tasks list';
  const { values } = parseOrUsage(command, () =>
    parseArgs({
      args: argv,
      options: {
        ...CLIENT_OPTIONS,
        status: { type: 'string', multiple: true },
        type: { type: 'string' },
        label: { type: 'string' },
        search: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        all: { type: 'boolean' },
      },
    }),
  );
  if (values.help) return help(LIST_HELP);
  const status = values.status?.map((s) => oneOf(command, 'status', s, STATUSES));
  const limit = integerFlag(command, 'limit', values.limit);
  const params: TaskListParams = {
    ...(status === undefined ? {} : { status }),
    ...(values.type === undefined ? {} : { type: values.type }),
    ...(values.label === undefined ? {} : { label: values.label }),
    ...(values.search === undefined ? {} : { q: values.search }),
    ...(values.cursor === undefined ? {} : { cursor: values.cursor }),
  };
  const client = connect(command, values);
  let page: TaskList;
  if (values.all) {
    // One list of everything, shaped like a last page, so `.items` reads the same either way.
    const items: Task[] = [];
    await withApiErrors(async () => {
      for await (const task of client.tasks.listAll({ ...params, limit: limit ?? 200 })) items.push(task);
    });
    page = { items, nextCursor: null, hasMore: false };
  } else {
    page = await withApiErrors(() => client.tasks.list(limit === undefined ? params : { ...params, limit }));
  }
  if (values.json) {
    printJson(page);
    return 0;
  }
  out(page.items.length === 0 ? 'No tasks.' : taskTable(page.items));
  if (page.hasMore && page.nextCursor !== null) out(`\nMore: --cursor ${page.nextCursor} (or --all)`);
  return 0;
}

function parseJsonFlag(command: string, name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(command, `--${name} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

function help(text: string): number {
  out(text);
  return 0;
}
