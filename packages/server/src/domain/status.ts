/**
 * Task statuses (SPEC §3). Archiving is a flag (`archivedAt`), not a status.
 *
 * The lists come from the SDK's vocabulary, the one module outside domain/ the domain may import:
 * it imports nothing itself, and the SDK's wire schemas are built from the same lists, so the
 * server and its clients cannot disagree on what the statuses are.
 */
import type { TaskStatus, TerminalStatus, ActiveStatus } from '@tasklane/sdk/vocabulary';

export {
  ACTIVE_STATUSES,
  STATUSES,
  TERMINAL_STATUSES,
  type ActiveStatus,
  type TaskStatus,
  type TerminalStatus,
} from '@tasklane/sdk/vocabulary';

export function isTerminal(status: TaskStatus): status is TerminalStatus {
  return status === 'completed' || status === 'failed' || status === 'canceled';
}

export function isActive(status: TaskStatus): status is ActiveStatus {
  return !isTerminal(status);
}
