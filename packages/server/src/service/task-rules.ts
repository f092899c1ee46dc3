/**
 * The rules on task content (docs/api.md, "Input rules"), held by the use cases themselves: create,
 * patch, actions, steps and every worker report check what they are given here, before their unit of
 * work starts, whoever calls them: a native route, a dialect composing its product's fields, or code
 * in the process. So no path around them exists, and every caller gets the same catalogue error:
 * PAYLOAD_TOO_LARGE (413) for a payload over 256 KiB, VALIDATION_FAILED (400) for anything else,
 * naming the value in `errors[].path` (a JSON Pointer into the use case's input, the same as into a
 * native body; `at` prefixes it, e.g. `/tasks/3` in a batch).
 *
 * The native routes' schemas refuse most of this first; these rules are the ones that must hold
 * whatever the route (sizes, lengths, the text and number rules of domain/value-rules.ts, the rules
 * across fields). Text rules cost little on values the JSON parser made: a payload is serialized
 * once (its size needs it), and only text with a suspicious `\u` escape is walked for bad strings.
 */
import type { TaskCreate, TaskPatch } from '@tasklane/sdk/schemas';
import { TasklaneError } from '../domain/errors.js';
import { LIMITS, TYPE_PATTERN } from '../domain/task.js';
import { findValueFault, mayBreakTextRule, textFault } from '../domain/value-rules.js';

export interface StepContent {
  message: string;
  data?: unknown;
}

/** What a worker reports, whatever the action (the fields each action takes). */
export interface ReportContent {
  action: 'heartbeat' | 'complete' | 'fail' | 'release';
  progress?: number | undefined;
  progressMessage?: string | undefined;
  steps?: readonly StepContent[] | undefined;
  result?: unknown;
  error?: { code?: string | undefined; message: string; details?: unknown } | undefined;
  delayMs?: number | undefined;
  retryAfterMs?: number | undefined;
}

const TYPE_RE = new RegExp(TYPE_PATTERN);
const ERROR_CODE_RE = /^[A-Za-z0-9_.:-]+$/;

export function checkCreate(t: TaskCreate, at = ''): void {
  if (!TYPE_RE.test(t.type)) refuse(`${at}/type`, `must match pattern "${TYPE_PATTERN}"`);
  text(`${at}/title`, t.title, LIMITS.titleMaxLength, 1);
  text(`${at}/description`, t.description, LIMITS.descriptionMaxLength);
  payload(`${at}/input`, t.input);
  metadata(`${at}/metadata`, t.metadata);
  labels(`${at}/labels`, t.labels);
  text(`${at}/listId`, t.listId, LIMITS.nameMaxLength, 1);
  text(`${at}/assignee`, t.assignee, LIMITS.nameMaxLength, 1);
  text(`${at}/createdBy`, t.createdBy, LIMITS.nameMaxLength, 1);
  text(`${at}/projectId`, t.projectId, LIMITS.refMaxLength, 1);
  t.dependsOn?.forEach((d, i) => text(`${at}/dependsOn/${i}`, d, LIMITS.refMaxLength, 1));
  if (t.runAt !== undefined && t.delayMs !== undefined) {
    throw new TasklaneError('VALIDATION_FAILED', 'Give runAt or delayMs, not both.', {
      errors: [{ path: `${at}/delayMs`, message: 'runAt and delayMs exclude each other' }],
    });
  }
  if (t.runAt !== undefined && !Number.isFinite(Date.parse(t.runAt))) {
    refuse(`${at}/runAt`, 'must be an RFC 3339 date-time');
  }
  delay(`${at}/delayMs`, t.delayMs);
}

export function checkPatch(p: TaskPatch, at = ''): void {
  text(`${at}/title`, p.title, LIMITS.titleMaxLength, 1);
  text(`${at}/description`, p.description, LIMITS.descriptionMaxLength);
  metadata(`${at}/metadata`, p.metadata);
  labels(`${at}/labels`, p.labels);
  text(`${at}/assignee`, p.assignee, LIMITS.nameMaxLength, 1);
}

/** A worker's id: what a claim records as the lease's worker and the task's assignee. */
export function checkWorkerId(workerId: string, at = '/workerId'): void {
  text(at, workerId, LIMITS.nameMaxLength, 1);
}

/** The reason of an action (cancel, block, reject, …): it becomes a step or the blocked reason. */
export function checkReason(reason: string | undefined, at = ''): void {
  text(`${at}/reason`, reason, LIMITS.reasonMaxLength, 1);
}

export function checkSteps(steps: readonly StepContent[] | undefined, at = ''): void {
  steps?.forEach((s, i) => {
    text(`${at}/steps/${i}/message`, s.message, LIMITS.stepMessageMaxLength, 1);
    payload(`${at}/steps/${i}/data`, s.data);
  });
}

/** A heartbeat, completion, failure or release, with the steps it carries. */
export function checkReport(r: ReportContent, at = ''): void {
  checkSteps(r.steps, at);
  switch (r.action) {
    case 'heartbeat':
      if (r.progress !== undefined && !(r.progress >= 0 && r.progress <= 1)) {
        refuse(`${at}/progress`, 'must be a number from 0 to 1');
      }
      text(`${at}/progressMessage`, r.progressMessage, LIMITS.progressMessageMaxLength);
      return;
    case 'complete':
      payload(`${at}/result`, r.result);
      return;
    case 'fail': {
      const e = r.error;
      if (e === undefined) return refuse(`${at}/error`, 'is required to fail a task');
      text(`${at}/error/message`, e.message, LIMITS.errorMessageMaxLength, 1);
      text(`${at}/error/code`, e.code, LIMITS.errorCodeMaxLength, 1);
      if (e.code !== undefined && !ERROR_CODE_RE.test(e.code)) {
        refuse(`${at}/error/code`, `must match pattern "${ERROR_CODE_RE.source}"`);
      }
      payload(`${at}/error/details`, e.details);
      delay(`${at}/retryAfterMs`, r.retryAfterMs);
      return;
    }
    case 'release':
      delay(`${at}/delayMs`, r.delayMs);
      return;
    default: {
      const unknown: never = r.action;
      throw new Error(`unknown report ${String(unknown)}`);
    }
  }
}

/**
 * A JSON value the task keeps (input, result, a step's data, error details): within the JSON rules
 * (numbers, nesting, keys; the walk costs about a tenth of the serialization), at most `maxBytes`
 * once serialized, and valid text (walked again only when the serialized text may hold bad text).
 */
function payload(path: string, value: unknown, maxBytes: number = LIMITS.payloadMaxBytes): void {
  if (value === undefined) return;
  valueFault(path, findValueFault(value, false));
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    throw new TasklaneError('PAYLOAD_TOO_LARGE', `${path} is ${bytes} bytes; the limit is ${maxBytes}.`, {
      errors: [{ path, message: `larger than ${maxBytes} bytes` }],
    });
  }
  if (mayBreakTextRule(json)) valueFault(path, findValueFault(value, true));
}

function valueFault(path: string, fault: { pointer: string; message: string } | null): void {
  if (fault !== null) refuse(path + fault.pointer, fault.message);
}

/** String keys (at most 64, each at most 128 characters), JSON values. */
function metadata(path: string, m: Record<string, unknown> | undefined): void {
  if (m === undefined) return;
  const keys = Object.keys(m);
  if (keys.length > LIMITS.metadataMaxKeys)
    refuse(path, `must NOT have more than ${LIMITS.metadataMaxKeys} properties`);
  for (const k of keys) text(`${path}/${pointerSegment(k)}`, k, LIMITS.metadataKeyMaxLength);
  payload(path, m, Infinity);
}

function labels(path: string, list: readonly string[] | undefined): void {
  if (list === undefined) return;
  if (list.length > LIMITS.labelsMax) refuse(path, `must NOT have more than ${LIMITS.labelsMax} items`);
  list.forEach((l, i) => text(`${path}/${i}`, l, LIMITS.labelMaxLength, 1));
}

function delay(path: string, ms: number | undefined): void {
  if (ms !== undefined && !(Number.isInteger(ms) && ms >= 0 && ms <= LIMITS.delayMaxMs)) {
    refuse(path, `must be an integer from 0 to ${LIMITS.delayMaxMs}`);
  }
}

/** Valid text of `min`..`max` characters (code points, as the schemas count them). */
function text(path: string, s: string | null | undefined, max: number, min = 0): void {
  if (s === null || s === undefined) return;
  const bad = textFault(s);
  if (bad !== null) refuse(path, bad);
  // A string's length in UTF-16 units is at least its length in code points: most need no count.
  const length = s.length <= max ? s.length : codePoints(s);
  if (length > max) refuse(path, `must NOT have more than ${max} characters`);
  if (length < min) refuse(path, `must NOT have fewer than ${min} characters`);
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A well-formed string (checked before) has a low surrogate after every high one.
    if (c >= 0xd800 && c <= 0xdbff) i++;
    n++;
  }
  return n;
}

const pointerSegment = (key: string): string => key.toWellFormed().replaceAll('~', '~0').replaceAll('/', '~1');

function refuse(path: string, message: string): never {
  throw new TasklaneError('VALIDATION_FAILED', `${path} ${message}`, { errors: [{ path, message }] });
}
