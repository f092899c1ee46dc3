/** The `tasklane` command: argument parsing and printing only; the work is the server's or the SDK's. */
import { CliError } from './cli-error.js';

const USAGE = `Usage: tasklane <command> [options]

Commands:
  serve                      Start the server (embedded SQLite in ./data by default)
  keys create|list|revoke    Manage API keys of your org
  keys reset-root            A new root key, made on the database (lost or revoked root key)
  tasks create|get|list|bulk Create, follow and act on tasks
  tasks watch ID             Follow a task live until it ends
  events [--follow]          The org's events, a page or live
  work --type T -- COMMAND   Run COMMAND for each claimed task of type T
  webhooks create|list|deliveries|retry|delete
                             Webhook endpoints of your org and their deliveries

Run 'tasklane <command> --help' for a command's options.
Server URL and key come from --url/--key or TASKLANE_URL/TASKLANE_KEY.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    // Each command is loaded only when run: a client command need not load the server.
    case 'serve':
      return (await import('./commands/serve.js')).serveCommand(rest);
    case 'keys':
      return (await import('./commands/keys.js')).keysCommand(rest);
    case 'tasks':
      return (await import('./commands/tasks.js')).tasksCommand(rest);
    case 'events':
      return (await import('./commands/events.js')).eventsCommand(rest);
    case 'webhooks':
      return (await import('./commands/webhooks.js')).webhooksCommand(rest);
    case 'work':
      return (await import('./commands/work.js')).workCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`tasklane: unknown command '${command}'\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`tasklane: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`tasklane: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
