/**
 * The SDK's enumerations, restated as plain values: importing them from @tasklane/sdk would bring
 * its TypeBox schemas (and TypeBox) into the bundle. The types come from the SDK, and the checks
 * below fail the build when the SDK gains a status or a scope this list lacks.
 */
import type { EventType, Scope, TaskStatus } from '@tasklane/sdk';

export const STATUSES = [
  'backlog',
  'blocked',
  'queued',
  'in_progress',
  'needs_review',
  'completed',
  'failed',
  'canceled',
] as const satisfies readonly TaskStatus[];

export const SCOPES = ['tasks:read', 'tasks:write', 'tasks:work', 'admin', 'root'] as const satisfies readonly Scope[];

export const EVENT_TYPES = [
  'task.created',
  'task.status_changed',
  'task.progress',
  'task.step',
  'task.updated',
  'task.deleted',
] as const satisfies readonly EventType[];

type Missing<All, Listed> = Exclude<All, Listed> extends never ? true : Exclude<All, Listed>;
export const statusesComplete: Missing<TaskStatus, (typeof STATUSES)[number]> = true;
export const scopesComplete: Missing<Scope, (typeof SCOPES)[number]> = true;
export const eventTypesComplete: Missing<EventType, (typeof EVENT_TYPES)[number]> = true;
