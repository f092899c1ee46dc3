import { CliError } from '../cli-error.js';
export async function tasksCommand(_argv: string[]): Promise<number> {
  throw new CliError('tasks: coming in this session');
}
