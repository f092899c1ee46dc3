/** The list's other filters: each change goes into the address (and so into a shared link). */
import type { Stats } from '@tasklane/sdk';
import { useEffect, useState } from 'preact/hooks';
import { hasFilters, SEARCH_MAX, type ListView, type TextFilter } from '../lib/filters.js';

const EMPTY: ListView = { status: [], archived: false };

/** A datetime-local value (local time) as RFC 3339, and back. */
const toIso = (local: string): string | undefined => (local === '' ? undefined : new Date(local).toISOString());
function toLocal(iso: string | undefined): string {
  if (iso === undefined) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function ListFilters({
  view,
  stats,
  onChange,
}: {
  view: ListView;
  stats: Stats | null;
  onChange: (v: ListView) => void;
}) {
  const types = stats === null ? [] : Object.keys(stats.byType).sort();
  const set = (field: TextFilter, value: string | undefined) => {
    const next = { ...view };
    if (value === undefined || value.trim() === '') delete next[field];
    else next[field] = value.trim();
    onChange(next);
  };
  return (
    <form class="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
      <div class="field">
        <label for="f-type">Type</label>
        <select id="f-type" value={view.type ?? ''} onChange={(e) => set('type', e.currentTarget.value)}>
          <option value="">All types</option>
          {types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
          {view.type !== undefined && !types.includes(view.type) && <option value={view.type}>{view.type}</option>}
        </select>
      </div>
      <TextField id="f-q" label="Title contains" value={view.q} onCommit={(v) => set('q', v)} maxLength={SEARCH_MAX} />
      <TextField id="f-label" label="Label" value={view.label} onCommit={(v) => set('label', v)} />
      <TextField id="f-assignee" label="Assignee" value={view.assignee} onCommit={(v) => set('assignee', v)} />
      <TextField id="f-list" label="List" value={view.listId} onCommit={(v) => set('listId', v)} />
      <TextField
        id="f-project"
        label="Project"
        value={view.projectId}
        onCommit={(v) => set('projectId', v)}
        placeholder="OPS"
      />
      <div class="field">
        <label for="f-after">Created after</label>
        <input
          id="f-after"
          type="datetime-local"
          value={toLocal(view.createdAfter)}
          onChange={(e) => set('createdAfter', toIso(e.currentTarget.value))}
        />
      </div>
      <div class="field">
        <label for="f-before">Created before</label>
        <input
          id="f-before"
          type="datetime-local"
          value={toLocal(view.createdBefore)}
          onChange={(e) => set('createdBefore', toIso(e.currentTarget.value))}
        />
      </div>
      <div class="field field-check">
        <input
          id="f-archived"
          type="checkbox"
          checked={view.archived}
          onChange={(e) => onChange({ ...view, archived: e.currentTarget.checked })}
        />
        <label for="f-archived">Include archived</label>
      </div>
      {hasFilters(view) && (
        <button type="button" class="btn btn-ghost" onClick={() => onChange(EMPTY)}>
          Clear filters
        </button>
      )}
    </form>
  );
}

/** A text filter, applied on Enter or when the field loses focus (not on every keystroke). */
function TextField(p: {
  id: string;
  label: string;
  value: string | undefined;
  placeholder?: string;
  maxLength?: number;
  onCommit: (v: string | undefined) => void;
}) {
  const [text, setText] = useState(p.value ?? '');
  useEffect(() => setText(p.value ?? ''), [p.value]);
  const commit = () => {
    if (text.trim() !== (p.value ?? '')) p.onCommit(text);
  };
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <input
        id={p.id}
        type="text"
        value={text}
        placeholder={p.placeholder ?? 'Any'}
        maxLength={p.maxLength}
        onInput={(e) => setText(e.currentTarget.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
        }}
        autoComplete="off"
      />
    </div>
  );
}
