/**
 * Bulk actions on the selected rows, or on everything that matches the filters: one call to
 * POST /v1/tasks/bulk (≤ 1,000 tasks), after a confirmation that says how many.
 */
import type { BulkActionResult } from '@tasklane/sdk';
import { useState } from 'preact/hooks';
import { toListParams, type ListView } from '../lib/filters.js';
import { formatNumber } from '../lib/format.js';
import { describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';
import { ConfirmDialog } from './confirm-dialog.js';

export interface Selection {
  ids: Set<string>;
  /** Every task that matches the view's filters, not only the rows checked. */
  allMatching: boolean;
}

type BulkAction = 'cancel' | 'retry' | 'archive';
const ACTIONS: Record<BulkAction, { label: string; past: string; danger: boolean }> = {
  cancel: { label: 'Cancel', past: 'canceled', danger: true },
  retry: { label: 'Retry', past: 'queued again', danger: false },
  archive: { label: 'Archive', past: 'archived', danger: false },
};
const plural = (n: number) => `${formatNumber(n)} task${n === 1 ? '' : 's'}`;

export function BulkBar(p: {
  selection: Selection;
  onSelection: (s: Selection) => void;
  view: ListView;
  pageCount: number;
  morePages: boolean;
  onDone: () => void;
}) {
  const { client } = useSession();
  const [asking, setAsking] = useState<{ action: BulkAction; count: number; hasMore: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const { selection } = p;
  const count = selection.ids.size;
  const target = () =>
    selection.allMatching ? { filter: toListParams(p.view) } : { ids: [...selection.ids].slice(0, 1000) };

  const ask = async (action: BulkAction) => {
    setOutcome(null);
    if (!selection.allMatching) {
      setAsking({ action, count, hasMore: false });
      return;
    }
    // How many match, before anything changes.
    try {
      const dry = await client.tasks.bulk({ action, ...target(), dryRun: true });
      setAsking({ action, count: dry.matched, hasMore: dry.hasMore });
    } catch (err) {
      setOutcome(`Could not count the tasks: ${describeError(err)}`);
    }
  };

  const run = async () => {
    if (asking === null) return;
    setBusy(true);
    let result: BulkActionResult;
    try {
      result = await client.tasks.bulk({ action: asking.action, ...target() });
    } catch (err) {
      setOutcome(`Nothing was done: ${describeError(err)}`);
      setBusy(false);
      setAsking(null);
      return;
    }
    const ok = result.results.filter((r) => r.ok).length;
    const refused = new Map<string, number>();
    for (const r of result.results)
      if (!r.ok && r.error) refused.set(r.error.code, (refused.get(r.error.code) ?? 0) + 1);
    const why = [...refused].map(([code, n]) => `${formatNumber(n)} ${code}`).join(', ');
    setOutcome(
      `${plural(ok)} ${ACTIONS[asking.action].past}` +
        (refused.size > 0 ? `; ${formatNumber(result.results.length - ok)} could not be (${why})` : '') +
        (result.hasMore ? '. More tasks match: run it again for the next ones.' : '.'),
    );
    setBusy(false);
    setAsking(null);
    p.onSelection({ ids: new Set(), allMatching: false });
    p.onDone();
  };

  if (count === 0 && !selection.allMatching) {
    return outcome === null ? null : (
      <div class="bulkbar bulkbar-outcome" role="status">
        {outcome}
        <button type="button" class="btn btn-small btn-ghost" onClick={() => setOutcome(null)}>
          Dismiss
        </button>
      </div>
    );
  }
  const pageSelected = count === p.pageCount && p.pageCount > 0;
  return (
    <div class="bulkbar" role="region" aria-label="Bulk actions">
      <span class="bulkbar-count" aria-live="polite">
        {selection.allMatching ? 'All tasks that match these filters' : `${plural(count)} selected`}
      </span>
      {pageSelected && p.morePages && !selection.allMatching && (
        <button
          type="button"
          class="btn btn-small btn-link"
          onClick={() => p.onSelection({ ids: new Set(), allMatching: true })}
        >
          Select all that match this filter
        </button>
      )}
      <span class="bulkbar-actions">
        {(Object.keys(ACTIONS) as BulkAction[]).map((a) => (
          <button
            type="button"
            key={a}
            class={`btn btn-small${ACTIONS[a].danger ? ' btn-danger-outline' : ''}`}
            onClick={() => void ask(a)}
          >
            {ACTIONS[a].label}
          </button>
        ))}
        <button
          type="button"
          class="btn btn-small btn-ghost"
          onClick={() => p.onSelection({ ids: new Set(), allMatching: false })}
        >
          Clear selection
        </button>
      </span>
      {outcome !== null && <span role="status">{outcome}</span>}
      {asking !== null && (
        <ConfirmDialog
          title={`${ACTIONS[asking.action].label} ${plural(asking.count)}?`}
          confirmLabel={`${ACTIONS[asking.action].label} ${plural(asking.count)}`}
          danger={ACTIONS[asking.action].danger}
          busy={busy}
          onConfirm={() => void run()}
          onClose={() => setAsking(null)}
        >
          <p>
            {selection.allMatching
              ? `${plural(asking.count)} match these filters${asking.hasMore ? ' (the newest 1,000; more match, run it again for the rest)' : ''}.`
              : `The ${plural(asking.count)} you selected.`}{' '}
            Each one is {ACTIONS[asking.action].past} only if its status allows it; the others are left as they are.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
