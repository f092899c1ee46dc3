/** Task statuses (SPEC §3). Archiving is a flag (`archivedAt`), not a status. */
export const STATUSES = [
  'backlog',
  'blocked',
  'queued',
  'in_progress',
  'needs_review',
  'completed',
  'failed',
  'canceled',
] as const;

export type TaskStatus = (typeof STATUSES)[number];

export const ACTIVE_STATUSES = ['backlog', 'blocked', 'queued', 'in_progress', 'needs_review'] as const;
export const TERMINAL_STATUSES = ['completed', 'failed', 'canceled'] as const;

export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export function isTerminal(status: TaskStatus): status is TerminalStatus {
  return status === 'completed' || status === 'failed' || status === 'canceled';
}

export function isActive(status: TaskStatus): status is ActiveStatus {
  return !isTerminal(status);
}
