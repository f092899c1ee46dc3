/**
 * The request list of the OpenAPI fuzz test, made once from the served document and a seed, then
 * sent unchanged to every backend: per operation, valid requests from its schemas, then one hostile
 * value swapped into each field (body at every depth, query, path, headers) of a smallest valid request.
 */
import fc from 'fast-check';
import {
  BODY_HOSTILES,
  HEADER_HOSTILES,
  UNKNOWN_KEYS,
  URL_HOSTILES,
  fieldsOf,
  instancePointer,
  mustRefuse,
  toJsonText,
  withValueAt,
  wrongTypeFor,
} from './hostile-values.js';
import { arbitraryOf, isFreeForm, type JsonSchema } from './schema-arbitrary.js';

export type Where = 'valid' | 'body' | 'query' | 'path' | 'header' | 'dialect';

export interface PlannedRequest {
  /** `METHOD /template` of the operation (or the dialect route). */
  op: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query as sent, with fixture references (`~~queued.id~~`) still in. */
  url: string;
  headers: Record<string, string>;
  /** JSON text, references still in. */
  body?: string;
  where: Where;
  /** The field the hostile value went into (`/retryPolicy/delayMs`, `?limit`, `{taskId}`, `If-Match`). */
  field?: string;
  /** The class of the hostile value (`lone surrogate`, `1e400`, …). */
  hostile?: string;
  /** The server must refuse it (4xx): the value breaks the field's schema or can be kept by no backend. */
  mustRefuse?: boolean;
  /** A dialect's name, when the route is one of a dialect's. */
  dialect?: string;
}

export interface Batch {
  name: string;
  requests: PlannedRequest[];
}

interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}

interface OpenApiOperation {
  parameters?: Param[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

export interface OperationOverrides {
  /** Fixed arbitraries for body fields, by pointer (see schema-arbitrary). */
  body?: Record<string, fc.Arbitrary<unknown>>;
  /** Fixed arbitraries for parameters, by name. */
  params?: Record<string, fc.Arbitrary<unknown>>;
  /** Headers the document does not list that the route reads (If-Match, If-None-Match). */
  headers?: string[];
  /** Parameters valid requests leave out (a cursor only the server can make); still fuzzed. */
  omit?: string[];
  /** Rules across fields that the schema cannot say (runAt or delayMs, not both): valid bodies keep them. */
  bodyFilter?: (body: unknown) => boolean;
  /** Headers every request of the operation carries (an event route's Accept, for a page that ends). */
  always?: Record<string, string>;
}

export interface PlanOptions {
  seed: number;
  /** Valid requests per operation. */
  validRuns: number;
  /** Requests per (field, hostile value): the first on a smallest valid request, the others on full ones. */
  runsPerField: number;
  overrides: Record<string, OperationOverrides>;
}

const encodeQuery = (query: Record<string, unknown>): string =>
  Object.entries(query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${encodeURIComponent(String(x))}`))
    .join('&');

/** A small, stable hash of a string, to give every operation its own seed. */
function hash(s: string): number {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ (c.codePointAt(0) ?? 0), 16777619);
  return h >>> 0;
}

interface Shape {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body: unknown;
}

/** Parts of a request written as they are sent: hostile values, already encoded. */
interface RawParts {
  path?: Record<string, string>;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** The requests of one operation; each method makes one kind. */
class OperationPlan {
  private readonly name: string;
  private readonly o: OperationOverrides;
  private readonly params: Param[];
  private readonly bodySchema: JsonSchema | undefined;
  private readonly seed: number;
  private samples = 0;
  private idempotencyKeys = 0;
  /** A smallest valid request: hostile values go into it one at a time. */
  readonly smallest: Shape;

  constructor(
    private readonly method: string,
    private readonly template: string,
    op: OpenApiOperation,
    private readonly opts: PlanOptions,
  ) {
    this.name = `${method.toUpperCase()} ${template}`;
    this.o = opts.overrides[this.name] ?? {};
    this.params = op.parameters ?? [];
    this.bodySchema = op.requestBody?.content['application/json']?.schema;
    this.seed = (opts.seed ^ hash(this.name)) >>> 0;
    const [smallest] = this.sample(this.shapeArb(true));
    if (smallest === undefined) throw new Error(`fuzz plan: no request for ${this.name}`);
    this.smallest = smallest;
  }

  valid(): PlannedRequest[] {
    return this.sample(this.shapeArb(false), this.opts.validRuns).map((s) => this.render(s, { where: 'valid' }));
  }

  /** Every body field, every hostile value that fits it; on a smallest body, then on full ones. */
  bodyFields(): PlannedRequest[] {
    const out: PlannedRequest[] = [];
    for (const field of this.bodySchema === undefined ? [] : fieldsOf(this.bodySchema)) {
      const hostiles = [
        ...BODY_HOSTILES.filter((h) => h.freeFormOnly !== true || isFreeForm(field.schema)),
        ...wrongTypeFor(field.schema),
      ];
      const bases = [
        ...this.sample(this.bodyArb(true, field.pointer)),
        ...this.sample(this.bodyArb(false, field.pointer), Math.max(0, this.opts.runsPerField - 1)),
      ];
      for (const h of hostiles) {
        for (const base of bases) {
          const body = toJsonText(withValueAt(base, field.pointer, h.value));
          const extra = {
            field: instancePointer(field.pointer),
            hostile: h.name,
            mustRefuse: mustRefuse(field.schema, h),
          };
          out.push(this.render(this.smallest, { where: 'body', ...extra }, { body }));
        }
      }
    }
    return out;
  }

  /** `__proto__` and `constructor` in every object that takes no other keys, the body itself included. */
  unknownKeys(): PlannedRequest[] {
    if (this.bodySchema === undefined) return [];
    const out: PlannedRequest[] = [];
    const objects = [{ pointer: '', schema: this.bodySchema }, ...fieldsOf(this.bodySchema)].filter(
      (f) => f.schema.type === 'object' && f.schema.additionalProperties === false,
    );
    for (const field of objects) {
      const [base] = this.sample(this.bodyArb(true, field.pointer || undefined));
      for (const h of UNKNOWN_KEYS) {
        const pointer = `${field.pointer}/${h.key}`;
        const body = toJsonText(withValueAt(base, pointer, h.value));
        const extra = { field: instancePointer(pointer), hostile: h.name, mustRefuse: true };
        out.push(this.render(this.smallest, { where: 'body', ...extra }, { body }));
      }
    }
    return out;
  }

  /** Each path and query parameter with each hostile URL value (the others valid and smallest). */
  slots(): PlannedRequest[] {
    const out: PlannedRequest[] = [];
    for (const p of this.params.filter((x) => x.in !== 'header')) {
      const others = { ...this.smallest, query: { ...this.smallest.query } };
      delete others.query[p.name];
      const field = p.in === 'path' ? `{${p.name}}` : `?${p.name}`;
      for (const [hostile, value] of URL_HOSTILES) {
        const raw: RawParts = p.in === 'path' ? { path: { [p.name]: value } } : { query: `${p.name}=${value}` };
        out.push(this.render(others, { where: p.in, field, hostile }, raw));
      }
      if (p.in === 'query') {
        const raw = { query: `${p.name}=a&${p.name}=b` };
        out.push(this.render(others, { where: 'query', field, hostile: 'repeated parameter' }, raw));
      }
    }
    if (this.params.some((p) => p.in === 'query')) {
      const extra = { where: 'query', field: '?__proto__', hostile: 'unknown parameter' } as const;
      out.push(this.render(this.smallest, extra, { query: '__proto__=x' }));
    }
    return out;
  }

  /** The headers the document lists and those the route reads besides, each with each hostile value. */
  headers(): PlannedRequest[] {
    const names = [...this.params.filter((p) => p.in === 'header').map((p) => p.name), ...(this.o.headers ?? [])];
    const others = { ...this.smallest, headers: {} };
    return names.flatMap((field) =>
      HEADER_HOSTILES.map(([hostile, value]) =>
        this.render(others, { where: 'header', field, hostile }, { headers: { [field]: value } }),
      ),
    );
  }

  private sample<T>(arb: fc.Arbitrary<T>, runs = 1): T[] {
    return fc.sample(arb, { seed: this.seed + this.samples++, numRuns: runs });
  }

  private part(where: Param['in'], minimal: boolean): fc.Arbitrary<Record<string, unknown>> {
    const ps = this.params.filter(
      (p) => p.in === where && !this.o.omit?.includes(p.name) && (!minimal || p.required === true || where === 'path'),
    );
    return fc.record(Object.fromEntries(ps.map((p) => [p.name, this.o.params?.[p.name] ?? arbitraryOf(p.schema)])), {
      requiredKeys: ps.filter((p) => p.required === true || p.in === 'path').map((p) => p.name),
    });
  }

  private bodyArb(minimal: boolean, keep?: string): fc.Arbitrary<unknown> {
    if (this.bodySchema === undefined) return fc.constant(undefined);
    const opts = { overrides: this.o.body ?? {}, requiredOnly: minimal, ...(keep ? { keep } : {}) };
    return arbitraryOf(this.bodySchema, opts).filter(this.o.bodyFilter ?? (() => true));
  }

  private shapeArb(minimal: boolean): fc.Arbitrary<Shape> {
    return fc.record({
      path: this.part('path', minimal),
      query: this.part('query', minimal),
      headers: this.part('header', minimal),
      body: this.bodyArb(minimal),
    });
  }

  private render(s: Shape, extra: Partial<PlannedRequest> & { where: Where }, raw: RawParts = {}): PlannedRequest {
    const path = this.template.replace(
      /\{(\w+)\}/g,
      (_m, p: string) => raw.path?.[p] ?? encodeURIComponent(String(s.path[p])),
    );
    const query = [encodeQuery(s.query), raw.query ?? ''].filter(Boolean).join('&');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.headers)) headers[k] = String(v);
    // A unique Idempotency-Key per request: a key reused with another body would answer 422 and hide the rest.
    if (headers['idempotency-key'] !== undefined) {
      headers['idempotency-key'] = `fuzz-${this.seed}-${this.idempotencyKeys++}`;
    }
    Object.assign(headers, this.o.always ?? {}, raw.headers ?? {});
    const body = raw.body ?? (this.bodySchema === undefined ? undefined : toJsonText(s.body));
    return {
      op: this.name,
      method: this.method.toUpperCase() as PlannedRequest['method'],
      url: query === '' ? path : `${path}?${query}`,
      headers,
      ...(body === undefined ? {} : { body }),
      ...extra,
    };
  }
}

/** One batch per operation of the document, in the document's order. */
export function planDocument(
  doc: { paths: Record<string, Record<string, OpenApiOperation>> },
  opts: PlanOptions,
): Batch[] {
  const batches: Batch[] = [];
  for (const [template, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const plan = new OperationPlan(method, template, op, opts);
      batches.push({
        name: `${method.toUpperCase()} ${template}`,
        requests: [...plan.valid(), ...plan.bodyFields(), ...plan.unknownKeys(), ...plan.slots(), ...plan.headers()],
      });
    }
  }
  return batches;
}
