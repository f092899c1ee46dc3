/**
 * The words the server and the SDK share, each listed once: task statuses and key scopes.
 *
 * This module imports nothing, and must not (lint checks): the server's domain imports it as
 * `@tasklane/sdk/vocabulary`, the one import from outside domain/ the domain may have, and that
 * is harmless only because it drags nothing in with it. The SDK's wire schemas are built from the
 * same lists, so a status or scope cannot be added on one side and missed on the other.
 */

/** Statuses of a task whose work is not over (SPEC §3). */
export const ACTIVE_STATUSES = ['backlog', 'blocked', 'queued', 'in_progress', 'needs_review'] as const;
/** Statuses of a task whose work is over; only a person's `retry` leaves failed or canceled. */
export const TERMINAL_STATUSES = ['completed', 'failed', 'canceled'] as const;
/** Every task status, active first. Archiving is a flag (`archivedAt`), not a status. */
export const STATUSES = [...ACTIVE_STATUSES, ...TERMINAL_STATUSES] as const;

export type TaskStatus = (typeof STATUSES)[number];
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/** What an API key may do (SPEC §8): each route asks for one of these. */
export const SCOPES = ['tasks:read', 'tasks:write', 'tasks:work', 'admin', 'root'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * The kinds of task event (SPEC §10), in the order of a task's life: every change of a task is one
 * event of one of these, written with the change. Streams and webhooks filter by them.
 */
export const EVENT_TYPES = [
  'task.created',
  'task.status_changed',
  'task.progress',
  'task.step',
  'task.updated',
  'task.deleted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
