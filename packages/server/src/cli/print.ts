/** How the client commands print: raw JSON with --json, else short tables and summaries for people. */
import type { KeyInfo, Task } from '@tasklane/sdk';

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `2025-01-02T03:04:05.678Z` → `2025-01-02 03:04:05Z`. */
export function shortTime(iso: string | null): string {
  return iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function taskTable(tasks: readonly Task[]): string {
  return table(
    ['ID', 'STATUS', 'TYPE', 'PRI', 'CREATED', 'TITLE'],
    tasks.map((t) => [
      t.identifier ?? t.id,
      t.status,
      t.type,
      String(t.priority),
      shortTime(t.createdAt),
      truncate(t.title.replace(/\s+/g, ' '), 60),
    ]),
  );
}

const STEPS_SHOWN = 10;

/** One task as `field  value` lines, leaving out what is empty. */
export function taskSummary(t: Task): string {
  const status = t.blockedReason !== null && t.status === 'blocked' ? `${t.status} (${t.blockedReason})` : t.status;
  const progress =
    t.progress === null
      ? null
      : `${Math.round(t.progress * 100)}%${t.progressMessage === null ? '' : ` ${t.progressMessage}`}`;
  const fields: Array<[string, string | null]> = [
    ['id', t.id],
    ['identifier', t.identifier],
    ['type', t.type],
    ['title', t.title],
    ['status', status],
    ['priority', String(t.priority)],
    ['progress', progress],
    ['attempt', `${t.attempt} (max retries ${t.maxRetries})`],
    ['assignee', t.assignee],
    ['list', t.listId],
    ['labels', t.labels.length === 0 ? null : t.labels.join(', ')],
    ['depends on', t.dependsOn.length === 0 ? null : t.dependsOn.join(', ')],
    ['blocked by', t.blockedBy.length === 0 ? null : t.blockedBy.join(', ')],
    ['run at', t.runAt === null ? null : shortTime(t.runAt)],
    ['created', shortTime(t.createdAt)],
    ['updated', shortTime(t.updatedAt)],
    ['completed', t.completedAt === null ? null : shortTime(t.completedAt)],
    [
      'error',
      t.error === null ? null : `${t.error.code}: ${t.error.message}${t.error.retryable ? ' (retryable)' : ''}`,
    ],
    ['result', t.result === null || t.result === undefined ? null : truncate(JSON.stringify(t.result), 200)],
  ];
  const shown = fields.filter((f): f is [string, string] => f[1] !== null);
  const width = Math.max(...shown.map(([k]) => k.length));
  const lines = shown.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  if (t.steps.length > 0) {
    const skipped = Math.max(0, t.steps.length - STEPS_SHOWN);
    lines.push(`steps${skipped > 0 ? ` (last ${STEPS_SHOWN} of ${t.steps.length}; --json for all)` : ''}:`);
    for (const s of t.steps.slice(skipped)) lines.push(`  ${shortTime(s.time)}  ${s.message}`);
  }
  return lines.join('\n');
}

export function keyTable(keys: readonly KeyInfo[], now: number = Date.now()): string {
  const state = (k: KeyInfo) =>
    k.revokedAt !== null ? 'revoked' : k.expiresAt !== null && Date.parse(k.expiresAt) <= now ? 'expired' : 'active';
  return table(
    ['ID', 'NAME', 'STATE', 'CREATED', 'EXPIRES', 'SCOPES'],
    keys.map((k) => [k.id, k.name, state(k), shortTime(k.createdAt), shortTime(k.expiresAt), k.scopes.join(',')]),
  );
}
