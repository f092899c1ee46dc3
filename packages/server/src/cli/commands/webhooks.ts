/**
 * `tasklane webhooks create|list|deliveries|retry|delete|callback-secret`: the webhook endpoints of
 * the caller's org and their delivery log, through the SDK (needs an admin key). docs/webhooks.md.
 */
import { parseArgs } from 'node:util';
import { EVENT_TYPES, type WebhookCreate, type WebhookDelivery } from '@tasklane/sdk';
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
import { out, printJson } from '../print.js';
import { deliveryTable, webhookTable } from '../print-webhooks.js';

const HELP = `Usage: tasklane webhooks <command> [options]

Commands:
  create ENDPOINT_URL --event E [--event E]... [--task-type T]... [--list ID] [--description D]
                       Register an endpoint; its signing secret is printed once
  list                 The endpoints of your org (never their secrets)
  deliveries ID [--limit N] [--after CURSOR]
                       An endpoint's deliveries, newest first, with their last attempt
  retry ID DELIVERY_ID Send a delivery again now (same webhook-id)
  retry --task TASK DELIVERY_ID
                       The same for any delivery of a task, its callback's too
  delete ID            Delete an endpoint and its deliveries
  callback-secret      The org's secret that signs tasks' callbacks

Events: ${EVENT_TYPES.join(', ')}

${CLIENT_HELP}`;

const CREATE_HELP = `Usage: tasklane webhooks create ENDPOINT_URL --event E [--event E]... [options]

  ENDPOINT_URL   where deliveries are POSTed (http or https, a public address)
  --event        repeatable: ${EVENT_TYPES.join(', ')}
  --task-type    repeatable: only tasks of these types (default all)
  --list         only tasks of this list
  --description  a note for people

The signing secret (whsec_…) is printed once; verify deliveries with it (docs/webhooks.md).

${CLIENT_HELP}`;

const DELIVERIES_HELP = `Usage: tasklane webhooks deliveries ID [--limit N] [--after CURSOR]

  --limit   at most N deliveries (1-100, default 20)
  --after   the cursor printed after a page: the next, older page

${CLIENT_HELP}`;

const simpleHelp = (usage: string) => `Usage: tasklane webhooks ${usage}\n\n${CLIENT_HELP}`;

export function webhooksCommand(argv: string[]): Promise<number> {
  return dispatch(
    'webhooks',
    HELP,
    {
      create: createWebhook,
      list: listWebhooks,
      deliveries: listDeliveries,
      retry: retryDelivery,
      delete: deleteWebhook,
      'callback-secret': callbackSecret,
    },
    argv,
  );
}

async function createWebhook(argv: string[]): Promise<number> {
  const command = 'webhooks create';
  const { values, positionals } = parseOrUsage(command, () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...CLIENT_OPTIONS,
        event: { type: 'string', multiple: true },
        'task-type': { type: 'string', multiple: true },
        list: { type: 'string' },
        description: { type: 'string' },
      },
    }),
  );
  if (values.help) return help(CREATE_HELP);
  // The endpoint is the argument: --url names the Tasklane server, as in every client command.
  const [target, ...extra] = positionals;
  if (target === undefined) throw usageError(command, 'give the endpoint URL: tasklane webhooks create ENDPOINT_URL');
  if (extra.length > 0) throw usageError(command, `one endpoint URL, not ${positionals.length}`);
  const events = (values.event ?? []).map((e) => oneOf(command, 'event', e, EVENT_TYPES));
  if (events.length === 0) throw usageError(command, 'give at least one --event');
  const body: WebhookCreate = { url: target, events: [...new Set(events)] };
  if (values['task-type'] !== undefined) body.taskTypes = [...new Set(values['task-type'])];
  if (values.list !== undefined) body.listId = values.list;
  if (values.description !== undefined) body.description = values.description;
  const client = connect(command, values);
  const hook = await withApiErrors(() => client.webhooks.create(body));
  if (values.json) {
    printJson(hook);
  } else {
    out(
      `Created webhook ${hook.id} for ${hook.url} (events ${hook.events.join(', ')}).\n\n` +
        `Signing secret (shown this once; store it now, it cannot be shown again):\n\n  ${hook.secret}\n`,
    );
  }
  return 0;
}

async function listWebhooks(argv: string[]): Promise<number> {
  const command = 'webhooks list';
  const { values } = parseOrUsage(command, () => parseArgs({ args: argv, options: CLIENT_OPTIONS }));
  if (values.help) return help(simpleHelp('list'));
  const client = connect(command, values);
  const hooks = await withApiErrors(() => client.webhooks.list());
  if (values.json) printJson(hooks);
  else out(hooks.length === 0 ? 'No webhooks.' : webhookTable(hooks));
  return 0;
}

async function listDeliveries(argv: string[]): Promise<number> {
  const command = 'webhooks deliveries';
  const { values, positionals } = parseOrUsage(command, () =>
    parseArgs({
      args: argv,
      options: { ...CLIENT_OPTIONS, limit: { type: 'string' }, after: { type: 'string' } },
      allowPositionals: true,
    }),
  );
  if (values.help) return help(DELIVERIES_HELP);
  const [id] = ids(command, positionals, ['ID']);
  const limit = integerFlag(command, 'limit', values.limit);
  const client = connect(command, values);
  const page = await withApiErrors(() =>
    client.webhooks.deliveries(id, {
      ...(limit === undefined ? {} : { limit }),
      ...(values.after === undefined ? {} : { after: values.after }),
    }),
  );
  if (values.json) {
    printJson(page);
  } else {
    out(page.items.length === 0 ? 'No deliveries.' : deliveryTable(page.items));
    if (page.nextAfter !== null) out(`\nOlder: tasklane webhooks deliveries ${id} --after ${page.nextAfter}`);
  }
  return 0;
}

async function retryDelivery(argv: string[]): Promise<number> {
  const command = 'webhooks retry';
  const { values, positionals } = parseOrUsage(command, () =>
    parseArgs({ args: argv, options: { ...CLIENT_OPTIONS, task: { type: 'string' } }, allowPositionals: true }),
  );
  if (values.help) return help(simpleHelp('retry ID DELIVERY_ID | retry --task TASK DELIVERY_ID'));
  const client = connect(command, values);
  // A task's callback has no endpoint: it is retried through its task (an id or an identifier).
  const task = values.task;
  let d: WebhookDelivery;
  if (task === undefined) {
    const [id, deliveryId] = ids(command, positionals, ['ID', 'DELIVERY_ID']);
    d = await withApiErrors(() => client.webhooks.retryDelivery(id, deliveryId));
  } else {
    const [deliveryId] = ids(command, positionals, ['DELIVERY_ID']);
    d = await withApiErrors(() => client.tasks.retryDelivery(task, deliveryId));
  }
  if (values.json) printJson(d);
  else out(`Delivery ${d.id} (${d.eventType} of task ${d.taskId}) queued again.`);
  return 0;
}

async function deleteWebhook(argv: string[]): Promise<number> {
  const command = 'webhooks delete';
  const { values, positionals } = parseOrUsage(command, () =>
    parseArgs({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true }),
  );
  if (values.help) return help(simpleHelp('delete ID'));
  const [id] = ids(command, positionals, ['ID']);
  const client = connect(command, values);
  await withApiErrors(() => client.webhooks.delete(id));
  if (values.json) printJson({ id, deleted: true });
  else out(`Deleted webhook ${id}.`);
  return 0;
}

async function callbackSecret(argv: string[]): Promise<number> {
  const command = 'webhooks callback-secret';
  const { values } = parseOrUsage(command, () => parseArgs({ args: argv, options: CLIENT_OPTIONS }));
  if (values.help) return help(simpleHelp('callback-secret'));
  const client = connect(command, values);
  const secret = await withApiErrors(() => client.webhooks.callbackSecret());
  if (values.json) printJson({ secret });
  else out(secret);
  return 0;
}

/** Exactly the positionals `names` (ID, DELIVERY_ID…), else a usage error. */
function ids<const N extends readonly string[]>(
  command: string,
  positionals: string[],
  names: N,
): { [K in keyof N]: string } {
  if (positionals.length < names.length) throw usageError(command, `give ${names.join(' ')}`);
  if (positionals.length > names.length) throw usageError(command, `expected ${names.join(' ')}, got extra arguments`);
  return positionals as unknown as { [K in keyof N]: string };
}

function help(text: string): number {
  out(text);
  return 0;
}
