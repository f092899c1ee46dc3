import { CliError } from '../cli-error.js';
export async function keysCommand(_argv: string[]): Promise<number> {
  throw new CliError('keys: coming in this session');
}
