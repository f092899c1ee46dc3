/**
 * List cursors are opaque to clients: base64url of the last id seen. Lists run newest first by id
 * (UUIDv7), so tasks inserted meanwhile sort before the cursor and never shift a later page.
 */
import { TasklaneError } from '../domain/errors.js';
import { UUID_PATTERN } from './ids.js';

export function encodeCursor(lastId: string): string {
  return Buffer.from(`v1:${lastId}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.startsWith('v1:') ? text.slice(3) : '';
  if (!UUID_PATTERN.test(id)) {
    throw new TasklaneError('VALIDATION_FAILED', 'The cursor is not one this server gave out.', {
      errors: [{ path: 'cursor', message: 'invalid cursor' }],
    });
  }
  return id;
}
