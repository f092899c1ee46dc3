/**
 * What every answer of the OpenAPI fuzz test must satisfy, and the failure report: failures are
 * grouped by class (which rule, which kind of hostile value, which answer), each class with the
 * routes and fields it was seen in and its smallest reproducer.
 */
import { ERROR_CATALOGUE } from '../../src/domain/errors.js';
import type { PlannedRequest } from './fuzz-plan.js';

export interface Answer {
  status: number;
  contentType: string;
  requestId: string;
  body: string;
}

export interface Failure {
  rule: Rule;
  /** What the rule's title leaves out (`sqlite 201, postgres 500`). */
  note?: string;
  request: PlannedRequest;
  answer: Answer;
  /** Where it happened. */
  backend: string;
  /** The other backend's answer to the same request (rule `parity`). */
  other?: { backend: string; answer: Answer };
}

const CATALOGUE: ReadonlySet<string> = new Set(Object.keys(ERROR_CATALOGUE));

function parse(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): boolean => typeof v === 'string';

/** A short, stable name for an answer: status, and the error code or the body's keys. */
export function signature(a: Answer): string {
  if (a.status < 400) return `${Math.floor(a.status / 100)}xx`;
  const body = parse(a.body);
  const code = isObject(body) && typeof body.code === 'string' ? ` ${body.code}` : '';
  if (code !== '') return `${a.status}${code}`;
  if (isObject(body)) return `${a.status} {${Object.keys(body).join(',')}}`;
  return `${a.status} ${a.contentType.split(';')[0] || 'no content type'}`;
}

/** Each dialect's own error body (SPEC §11; test/dialects/shared.test.ts). */
const DIALECT_ERRORS: Record<string, (b: Record<string, unknown>, status: number) => boolean> = {
  mindfort: (b) => str(b.error) && str(b.request_id) && Object.keys(b).length === 2,
  capy: (b) =>
    isObject(b.error) &&
    str(b.error.code) &&
    str(b.error.message) &&
    isObject(b.error.details) &&
    Object.keys(b).length === 1,
  conductor: (b, status) =>
    b.status === status && str(b.code) && str(b.message) && str(b.instance) && typeof b.retryable === 'boolean',
  quant: (b) => str(b.error) && str(b.code) && Object.keys(b).length === 2,
  guardian: (b, status) => b.statusCode === status && str(b.message) && str(b.error) && Object.keys(b).length === 3,
};

/** The rules, most serious first; `byValue` rules make one class per kind of hostile value. */
export const RULES = {
  serverError: { title: 'answered 5xx', byValue: true },
  unresponsive: { title: 'stopped answering after a batch', byValue: false },
  accepted: { title: 'accepted a value it must refuse', byValue: true },
  malformed: { title: 'MALFORMED_JSON for a valid JSON body', byValue: false },
  shape: { title: "error body not in the route's error shape", byValue: false },
  refusedValid: { title: 'refused a request its schemas allow (400 VALIDATION_FAILED)', byValue: false },
  parity: { title: 'backends answer different statuses', byValue: true },
} as const;
export type Rule = keyof typeof RULES;

/** Every rule one answer breaks (empty when it keeps them all). */
export function check(req: PlannedRequest, a: Answer): Rule[] {
  const out: Rule[] = [];
  if (a.status >= 500 || a.status === 0) out.push('serverError');
  const body = parse(a.body);
  if (a.status >= 400 && req.dialect === undefined) {
    const ok =
      a.contentType.startsWith('application/problem+json') &&
      isObject(body) &&
      typeof body.code === 'string' &&
      CATALOGUE.has(body.code) &&
      body.status === a.status &&
      str(body.requestId) &&
      body.requestId !== '' &&
      body.requestId === a.requestId;
    if (!ok) out.push('shape');
    // Every body this test sends is valid JSON text (RFC 8259), hostile or not.
    if (isObject(body) && body.code === 'MALFORMED_JSON') out.push('malformed');
  }
  if (a.status >= 400 && req.dialect !== undefined) {
    const shape = DIALECT_ERRORS[req.dialect];
    const ok =
      a.contentType.startsWith('application/json') && isObject(body) && shape !== undefined && shape(body, a.status);
    if (!ok) out.push('shape');
  }
  if (req.mustRefuse === true && a.status < 400) out.push('accepted');
  // A valid request may be refused for what it names (404, 409, 422), never by validation: the
  // document would then promise what the server does not take.
  if (req.where === 'valid' && isObject(body) && body.code === 'VALIDATION_FAILED') out.push('refusedValid');
  return out;
}

/** Long runs of one character (70 KB strings, 40-deep nesting) shortened: `x{×71680}`. */
function shorten(text: string, max = 600): string {
  const s = text.replace(/(.)\1{19,}/gsu, (run: string, c: string) => `${c}{×${[...run].length}}`);
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}

/** Fixture references as words: `~~fresh.working.lease~~` → `<lease of a new in-progress task>`. */
function readable(text: string): string {
  const kinds: Record<string, string> = { working: 'in-progress task', key: 'API key', running: 'in-progress task' };
  return text.replace(/~~([a-z]+)\.([a-z]+)(?:\.([a-z]+))?~~/g, (_m, scope: string, a: string, b?: string) => {
    const fresh = scope === 'fresh';
    const kind = fresh ? a : scope;
    const field = (fresh ? b : a) === 'lease' ? 'lease id' : (fresh ? b : a) === 'key' ? 'key' : 'id';
    return `<${field} of ${fresh ? 'a new' : 'the'} ${kinds[kind] ?? (kind === 'project' ? 'project' : `${kind} task`)}>`;
  });
}

/** A request as a reader would type it. */
export function describeRequest(r: PlannedRequest): string {
  const headers = Object.entries(r.headers).map(([k, v]) => `\n       ${k}: ${shorten(readable(v), 200)}`);
  const body = r.body === undefined ? '' : `\n       body: ${shorten(readable(r.body))}`;
  return `${r.method} ${shorten(readable(r.url), 300)}${headers.join('')}${body}`;
}

const describeAnswer = (a: Answer): string => `${a.status} ${a.contentType} ${shorten(a.body, 300)}`;

const size = (r: PlannedRequest) => r.url.length + (r.body?.length ?? 0) + JSON.stringify(r.headers).length;

/** The class of a failure: rule, hostile value (for the rules that depend on it), backend, answer. */
function classOf(f: Failure): string {
  const rule = RULES[f.rule];
  const value = rule.byValue ? ` (${f.request.hostile ?? 'a valid request'})` : '';
  const answer = f.note ?? `${f.backend}: ${signature(f.answer)}`;
  return `${rule.title}${value} → ${answer}`;
}

const ORDER = Object.keys(RULES);

/** The failure report: one section per class, most serious first, each with its smallest reproducer. */
export function report(failures: readonly Failure[], header: string): string {
  const classes = new Map<string, Failure[]>();
  for (const f of failures) {
    const key = classOf(f);
    classes.set(key, [...(classes.get(key) ?? []), f]);
  }
  const sections = [...classes.entries()]
    .sort(([a, x], [b, y]) => ORDER.indexOf(x[0]?.rule ?? '') - ORDER.indexOf(y[0]?.rule ?? '') || (a < b ? -1 : 1))
    .map(([key, list], i) => {
      const where = [...new Set(list.map((f) => `${f.request.op}${f.request.field ? ` ${f.request.field}` : ''}`))];
      const values = [...new Set(list.map((f) => f.request.hostile ?? 'a valid request'))];
      const smallest = list.reduce((a, b) => (size(b.request) < size(a.request) ? b : a));
      const shown = where.slice(0, 10).join('; ') + (where.length > 10 ? `; … ${where.length - 10} more` : '');
      return [
        `${i + 1}. ${key}  [${list.length} request${list.length === 1 ? '' : 's'}]`,
        ...(RULES[list[0]?.rule ?? 'shape'].byValue ? [] : [`   values: ${values.join(', ')}`]),
        `   where: ${shown}`,
        `   reproducer: ${describeRequest(smallest.request)}`,
        ...(smallest.other === undefined
          ? [`   answer: ${describeAnswer(smallest.answer)}`]
          : [
              `   answer (${smallest.other.backend}): ${describeAnswer(smallest.other.answer)}`,
              `   answer (${smallest.backend}): ${describeAnswer(smallest.answer)}`,
            ]),
      ].join('\n');
    });
  return `${header}: ${classes.size} class${classes.size === 1 ? '' : 'es'} of failure\n\n${sections.join('\n\n')}`;
}
