/**
 * What a Conductor worker reports, in Tasklane's terms: a TaskResult as one worker report (its logs
 * as the report's steps, so the whole update is one unit of work), and a task log line as the text
 * Conductor's servers take.
 *
 * Conductor checks no worker id on an update (conductor-oss WorkflowExecutorOps.updateTask records the
 * reporter as the task's worker): any worker of the org may report on a task in progress, and
 * becomes its assignee. What Conductor does check is the task's status: an update of a task that has
 * finished is ignored, answered as if applied (200, nothing changed, logs dropped). A Tasklane task no
 * longer in progress (finished, canceled, given back or timed out and queued again: in Conductor each
 * retry is a new task, and the old one is finished) answers the same.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TasklaneError } from '../../domain/errors.js';
import { LIMITS, type Json } from '../../domain/task.js';
import { textFault } from '../../domain/value-rules.js';
import type { ReportBody, WorkerService } from '../../service/worker-service.js';
import { cutText } from './dialect-kit.js';

/** Optional, and null where an SDK serializes absent fields as null. */
const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

/** The fields of a TaskResult Tasklane reads; SDKs send more, which are accepted and ignored. */
export const TaskResult = Type.Object({
  taskId: Type.String({ minLength: 1, maxLength: 64 }),
  status: Type.String(),
  workflowInstanceId: Nullable(Type.String()),
  outputData: Nullable(Type.Record(Type.String(), Type.Unknown())),
  reasonForIncompletion: Nullable(Type.String()),
  callbackAfterSeconds: Nullable(Type.Integer({ minimum: 0 })),
  extendLease: Nullable(Type.Boolean()),
  workerId: Nullable(Type.String({ maxLength: LIMITS.nameMaxLength })),
  logs: Nullable(Type.Array(Type.Object({ log: Type.String() }))),
});
export type TaskResultBody = Static<typeof TaskResult>;

/** The statuses a worker reports (the others are the server's to set). */
const REPORTED: ReadonlySet<string> = new Set(['IN_PROGRESS', 'COMPLETED', 'FAILED', 'FAILED_WITH_TERMINAL_ERROR']);

/** The codes of a report on a task no longer in progress: Conductor's "already finished", ignored. */
const NOT_IN_PROGRESS: ReadonlySet<string> = new Set(['LEASE_LOST', 'TASK_CANCELED']);

/**
 * Apply one TaskResult as one worker report, by task id, under whatever lease the task holds; its
 * logs go in first, as steps, in the same unit. Answers whether it was applied (false: ignored, as
 * Conductor ignores an update of a task that is no longer in progress).
 */
export async function applyTaskResult(workers: WorkerService, orgId: string, r: TaskResultBody): Promise<boolean> {
  if (!REPORTED.has(r.status)) {
    throw new TasklaneError('VALIDATION_FAILED', `A worker reports ${[...REPORTED].join(', ')}, not ${r.status}.`, {
      errors: [{ path: '/status', message: 'is not a status a worker reports' }],
    });
  }
  const workerId = r.workerId === null || r.workerId === undefined || r.workerId === '' ? undefined : r.workerId;
  try {
    await workers.report(orgId, r.taskId, reportOf(r), { holder: { workerId, anyWorker: true } });
    return true;
  } catch (err) {
    if (!(err instanceof TasklaneError)) throw err;
    if (NOT_IN_PROGRESS.has(err.code)) return false;
    throw inTaskResultTerms(err);
  }
}

/** The native fields of a report, as the TaskResult fields they came from. */
const FIELDS: ReadonlyArray<[string, string]> = [
  ['/result', '/outputData'],
  ['/error/details', '/outputData'],
  ['/error/message', '/reasonForIncompletion'],
];

/** A refusal by the content rules, naming the TaskResult's fields instead of the native ones. */
function inTaskResultTerms(err: TasklaneError): TasklaneError {
  if (err.errors === undefined) return err;
  const rename = (path: string): string => {
    const hit = FIELDS.find(([native]) => path === native || path.startsWith(`${native}/`));
    return hit === undefined ? path : hit[1] + path.slice(hit[0].length);
  };
  let message = err.message;
  for (const e of err.errors) message = message.replace(e.path, rename(e.path));
  return new TasklaneError(err.code, message, {
    errors: err.errors.map((e) => ({ ...e, path: rename(e.path) })),
    ...(err.headers === undefined ? {} : { headers: err.headers }),
  });
}

function reportOf(r: TaskResultBody): ReportBody {
  // Log lines become steps, cut to the native limit (Conductor has none) on a character boundary.
  const steps = (r.logs ?? [])
    .filter((l) => l.log.trim() !== '')
    .map((l) => ({ message: cutText(l.log, LIMITS.stepMessageMaxLength) }));
  const output = r.outputData ?? null;
  switch (r.status) {
    case 'IN_PROGRESS':
      // Conductor's "call me back later": the task is put back, due after callbackAfterSeconds.
      return r.extendLease === true
        ? { action: 'heartbeat', steps }
        : {
            action: 'release',
            steps,
            delayMs: Math.min((r.callbackAfterSeconds ?? 0) * 1000, LIMITS.delayMaxMs),
          };
    case 'COMPLETED':
      return { action: 'complete', steps, result: output as Json };
    default: {
      const reason = r.reasonForIncompletion?.trim() || 'The worker reported a failure.';
      const message = cutText(reason, LIMITS.errorMessageMaxLength);
      const details = output === null || Object.keys(output).length === 0 ? {} : { details: output };
      return { action: 'fail', steps, error: { message, ...details }, retryable: r.status === 'FAILED' };
    }
  }
}

/**
 * The log line of `POST /tasks/{taskId}/log`. Conductor takes the body as text (`@RequestBody
 * String`), whatever its media type. A JSON string is its value (what the JavaScript SDK sends). The
 * Python SDK sends `json.dumps(line)` with the quotes stripped (`.strip('"')`) under
 * `Content-Type: application/json`: text that reads as the inside of a JSON string is decoded as one,
 * which gives the line back; a trailing lone backslash is what the strip left of an escaped closing
 * quote, which is put back. Any other text is the line as sent. Cut to the native step length.
 */
export function logLineOf(body: string): string {
  const line = cutText(decodeLogBody(body), LIMITS.stepMessageMaxLength);
  const bad = textFault(line);
  if (bad !== null)
    throw new TasklaneError('VALIDATION_FAILED', `The log line ${bad}.`, { errors: [{ path: '/', message: bad }] });
  if (line.trim() === '') {
    throw new TasklaneError('VALIDATION_FAILED', 'The log line is empty.', {
      errors: [{ path: '/', message: 'must not be empty' }],
    });
  }
  return line;
}

function decodeLogBody(body: string): string {
  if (body.startsWith('"')) {
    const value = parseJsonString(body);
    if (value !== null) return value;
  }
  // Text without a backslash decodes to itself (or not at all, when it holds a quote).
  if (!body.includes('\\')) return body;
  const trailing = /\\+$/.exec(body)?.[0].length ?? 0;
  return parseJsonString(`"${body}${trailing % 2 === 1 ? '"' : ''}"`) ?? body;
}

function parseJsonString(text: string): string | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}
