/**
 * The rules every value a task stores must keep, whoever hands it in (docs/api.md, "Input rules"):
 * text is valid Unicode without NUL, a number is one JavaScript holds exactly, JSON nests at most 32
 * levels and has no key that poisons JavaScript objects. Pure functions, so that both the HTTP edge
 * (on what the JSON parser made) and the service's content rules (on whatever a use case is given)
 * hold the same rules, from one place.
 */
import { LIMITS } from './task.js';

declare global {
  // ES2024 (Node 20 has both); the ES2023 lib the project compiles against does not declare them.
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

/**
 * The one rule for numbers: finite, and no larger in magnitude than 2^53 − 1, the largest integer
 * JavaScript (and so the task record, and most JSON clients) holds exactly. 1e400 parses to
 * Infinity and 12345678901234567890 to a neighbour, so both are refused rather than stored as null
 * or as another number; above 2^53 every double is an integer, most of them not the one written, so
 * the bound holds however the number is spelled (1e20 as much as 100000000000000000000). Inside the
 * range an integer is exact and a fraction is the nearest IEEE 754 double, as any JSON parser reads it.
 */
export function isStorableNumber(n: number): boolean {
  return n >= -Number.MAX_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER;
}

/** The one rule for text (strings, keys, path and query values): valid Unicode, and no NUL. */
export function textFault(s: string): string | null {
  if (!s.isWellFormed()) return 'is not valid Unicode (it holds a lone UTF-16 surrogate)';
  if (s.includes('\0')) return 'contains the NUL character (\\u0000)';
  return null;
}

/**
 * Whether JSON text may hold a string that breaks the text rule. A lone surrogate or a NUL can only
 * be written in JSON as a `\u` escape (raw control characters are not JSON, UTF-8 cannot encode a
 * surrogate, and JSON.stringify escapes both), so text without such an escape needs no text check.
 * False positives (an escaped backslash followed by `ud800`) only cost the precise check. The
 * `includes` goes first: a scan for one pair of characters is ten times cheaper than the pattern.
 */
export function mayBreakTextRule(json: string): boolean {
  return json.includes('\\u') && /\\u(?:[dD][89a-fA-F]|0000)/.test(json);
}

/** The first value of a JSON value that breaks a rule: its JSON Pointer (`''` for the value itself) and why. */
export interface ValueFault {
  pointer: string;
  message: string;
}

/**
 * The first value inside `value` that breaks a rule, or null. Containers wait on an explicit stack
 * with their depth (the value itself is level 1), so a hostile depth (or a cycle, which is one) costs
 * no stack; primitives are checked where they stand. Text is checked only with `checkText` (see
 * mayBreakTextRule: the caller usually knows the text cannot be bad).
 */
export function findValueFault(value: unknown, checkText: boolean): ValueFault | null {
  const fault = findFault(value, checkText);
  return fault === null ? null : { pointer: pointerTo(value, fault), message: fault.message };
}

/** Where a walk stopped: the member `key` of `parent` (`null`: the value itself), and why. */
interface Fault {
  parent: object | null;
  key: string | number | null;
  message: string;
}

function findFault(body: unknown, checkText: boolean): Fault | null {
  if (body === null || typeof body !== 'object') return primitiveFault(body, checkText, null, null);
  const nodes: object[] = [body];
  const depths: number[] = [1];
  let node: object | undefined;
  while ((node = nodes.pop()) !== undefined) {
    const depth = depths.pop() ?? 1;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (v !== null && typeof v === 'object') {
          if (depth >= LIMITS.jsonMaxDepth) return deepFault(node, i);
          nodes.push(v);
          depths.push(depth + 1);
        } else {
          const fault = primitiveFault(v, checkText, node, i);
          if (fault !== null) return fault;
        }
      }
    } else {
      const record = node as Record<string, unknown>;
      // JSON.parse makes plain objects: for…in sees exactly their own keys.
      for (const k in record) {
        if (k === '__proto__') return { parent: node, key: k, message: 'is refused: a __proto__ key' };
        if (checkText) {
          const bad = textFault(k);
          if (bad !== null) return { parent: node, key: k, message: `has a key that ${bad}` };
        }
        const v = record[k];
        if (v !== null && typeof v === 'object') {
          if (k === 'constructor' && Object.hasOwn(v, 'prototype')) {
            return { parent: node, key: k, message: 'is refused: a constructor key with a prototype' };
          }
          if (depth >= LIMITS.jsonMaxDepth) return deepFault(node, k);
          nodes.push(v);
          depths.push(depth + 1);
        } else {
          const fault = primitiveFault(v, checkText, node, k);
          if (fault !== null) return fault;
        }
      }
    }
  }
  return null;
}

function primitiveFault(
  v: unknown,
  checkText: boolean,
  parent: object | null,
  key: string | number | null,
): Fault | null {
  switch (typeof v) {
    case 'number':
      return isStorableNumber(v)
        ? null
        : { parent, key, message: `is outside ±${Number.MAX_SAFE_INTEGER} (send larger numbers as strings)` };
    case 'string': {
      const bad = checkText ? textFault(v) : null;
      return bad === null ? null : { parent, key, message: bad };
    }
    // Only values handed in by code (never by the JSON parser): JSON has no such values.
    case 'bigint':
    case 'function':
    case 'symbol':
      return { parent, key, message: `is not a JSON value (a ${typeof v})` };
    default:
      return null;
  }
}

function deepFault(parent: object, key: string | number): Fault {
  return { parent, key, message: `nests deeper than ${LIMITS.jsonMaxDepth} levels` };
}

/**
 * The JSON Pointer (RFC 6901) of a fault's value, found by a second walk (faults only); a segment
 * that is not valid Unicode is shown repaired.
 */
function pointerTo(body: unknown, fault: Fault): string {
  if (fault.parent === null) return '';
  // Each container's parent and key, recorded until the fault's parent is reached.
  const up = new Map<object, [object, string | number]>();
  const pending: object[] = [body as object];
  let node: object | undefined;
  while ((node = pending.pop()) !== undefined && node !== fault.parent) {
    for (const [k, v] of Object.entries(node)) {
      if (v !== null && typeof v === 'object' && v !== body && !up.has(v as object)) {
        up.set(v as object, [node, Array.isArray(node) ? Number(k) : k]);
        pending.push(v as object);
      }
    }
  }
  const segments: Array<string | number> = [];
  if (fault.key !== null) segments.push(fault.key);
  for (let at = up.get(fault.parent); at !== undefined; at = up.get(at[0])) segments.push(at[1]);
  return segments
    .reverse()
    .map((s) => `/${String(s).toWellFormed().replaceAll('~', '~0').replaceAll('/', '~1')}`)
    .join('');
}
