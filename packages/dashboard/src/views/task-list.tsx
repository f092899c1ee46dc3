/**
 * All tasks, newest first, a page at a time (cursor paging, so arriving tasks never shift a page):
 * filters and the page live in the address; rows change in place as events arrive; counts by
 * status on top; select rows (or everything that matches) to cancel, retry or archive them.
 */
import type { Stats, TaskList as TaskPage } from '@tasklane/sdk';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { BulkBar, type Selection } from '../components/bulk-bar.js';
import { ListFilters } from '../components/list-filters.js';
import { SearchBox } from '../components/search-box.js';
import { StatusSummary } from '../components/status-summary.js';
import { TaskTable } from '../components/task-table.js';
import { TASK_EVENT_TYPES } from '../live/events.js';
import { useEventStream } from '../live/use-event-stream.js';
import { useReportLiveState } from '../live/live-status.js';
import { formatView, hasFilters, parseView, toListParams, type ListView } from '../lib/filters.js';
import { applyEvent, applyToStats, keepNewer, RecentEvents } from '../lib/live-tasks.js';
import { formatNumber } from '../lib/format.js';
import { can, describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';

export const PAGE_SIZE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function TaskList() {
  const { client, key, who } = useSession();
  const { url, route } = useLocation();
  const search = url.includes('?') ? url.slice(url.indexOf('?')) : '';
  const view = useMemo(() => parseView(search), [search]);
  const filterKey = formatView({ ...view, cursor: undefined } as ListView);
  const [page, setPage] = useState<TaskPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  // Tasks created since the first page was read, by id (those the page now shows do not count).
  const [created, setCreated] = useState<ReadonlySet<string>>(new Set());
  const [selection, setSelection] = useState<Selection>({ ids: new Set(), allMatching: false });
  // Cursors of the pages before this one, to go back to (the address holds only the current one).
  const [older, setOlder] = useState<Array<string | undefined>>([]);
  const seq = useRef(0);
  // Events seen lately, applied again to a page that arrives after them (read from an older snapshot).
  const recent = useRef(new RecentEvents());
  const shown = useRef<TaskPage | null>(null);
  shown.current = page;

  const load = useCallback(
    async (quiet: boolean) => {
      const mine = ++seq.current;
      if (!quiet) setPage(null);
      try {
        const next = await client.tasks.list({
          ...toListParams(view),
          limit: PAGE_SIZE,
          ...(view.cursor === undefined ? {} : { cursor: view.cursor }),
        });
        if (mine !== seq.current) return;
        // A quiet reload may have read a snapshot older than events applied meanwhile: per row,
        // the newer version wins.
        setPage((prev) => recent.current.applyTo(quiet ? keepNewer(prev, next) : next));
        setError(null);
        if (!quiet && view.cursor === undefined) setCreated(new Set());
      } catch (err) {
        if (mine === seq.current) setError(describeError(err));
      }
    },
    [client, search],
  );
  const loadStats = useCallback(() => {
    client.insights.stats().then(setStats, () => undefined);
  }, [client]);

  useEffect(() => {
    void load(false);
  }, [load]);
  useEffect(loadStats, [loadStats]);
  useEffect(() => {
    setSelection({ ids: new Set(), allMatching: false });
    setOlder([]);
  }, [filterKey]);

  // Updates to the rows on screen are fetched again, a few at a time.
  const refetch = useRef(new Set<string>());
  const flush = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refetchSoon = (id: string) => {
    refetch.current.add(id);
    flush.current ??= setTimeout(() => {
      flush.current = null;
      const ids = [...refetch.current];
      refetch.current.clear();
      for (const id of ids) {
        client.tasks.get(id).then(
          (t) =>
            setPage((p) =>
              p === null ? p : { ...p, items: p.items.map((x) => (x.id === t.id && t.version >= x.version ? t : x)) },
            ),
          () => undefined,
        );
      }
    }, 200);
  };
  useEffect(() => () => clearTimeout(flush.current ?? undefined), []);

  const streamPath = useMemo(() => {
    const q = new URLSearchParams();
    for (const t of TASK_EVENT_TYPES) q.append('type', t);
    if (view.type !== undefined) q.set('taskType', view.type);
    if (view.listId !== undefined) q.set('listId', view.listId);
    // The stream filters by project id; a project named by its key (OPS) is filtered here instead.
    if (view.projectId !== undefined && UUID.test(view.projectId)) q.set('projectId', view.projectId);
    return `/v1/events?${q.toString()}`;
  }, [view.type, view.listId, view.projectId]);

  const live = useEventStream(streamPath, key, {
    onEvent(e) {
      recent.current.add(e);
      setStats((s) => (s === null ? s : (applyToStats(s, e) ?? s)));
      if (e.type === 'task.created') {
        // The event carries no title: under a title search, a new task may not be one of the list's.
        if (view.q === undefined) setCreated((ids) => new Set(ids).add(e.taskId));
        return;
      }
      if (e.type === 'task.deleted') loadStats();
      if (shown.current?.items.some((t) => t.id === e.taskId) !== true) return;
      if (e.type === 'task.updated') refetchSoon(e.taskId);
      setPage((p) => (p === null ? p : { ...p, items: p.items.map((t) => applyEvent(t, e)) }));
    },
    // Started at "now" (or after a reset): what changed before is read again, quietly.
    onOpen(resumed) {
      if (!resumed) {
        void load(true);
        loadStats();
      }
    },
    onReset() {
      void load(true);
      loadStats();
    },
  });
  useReportLiveState(live);

  const go = (next: ListView) => route(`/${formatView(next)}`);
  const onFilters = (next: ListView) => go({ ...next, cursor: undefined } as ListView);
  const newer = () => {
    const prev = older.slice(0, -1);
    const cursor = older.at(-1);
    setOlder(prev);
    go({ ...view, cursor } as ListView);
  };
  const olderPage = () => {
    if (page?.nextCursor == null) return;
    setOlder([...older, view.cursor]);
    go({ ...view, cursor: page.nextCursor });
  };
  const firstPage = () => {
    setOlder([]);
    if (view.cursor === undefined) void load(false);
    else go({ ...view, cursor: undefined } as ListView);
  };

  const writable = can(who, 'tasks:write');
  const items = page?.items ?? [];
  const fresh = [...created].filter((id) => !items.some((t) => t.id === id)).length;
  return (
    <section class="stack" aria-labelledby="tasks-title">
      <div class="page-head">
        <div>
          <h1 id="tasks-title">Tasks</h1>
          <p class="muted page-sub">
            {stats === null ? '\u00a0' : `${formatNumber(stats.total)} in total, newest first`}
          </p>
        </div>
        <SearchBox onSearch={(q) => onFilters({ ...view, q } as ListView)} />
      </div>
      <StatusSummary stats={stats} view={view} onChange={onFilters} />
      <ListFilters view={view} stats={stats} onChange={onFilters} />
      {fresh > 0 && view.cursor === undefined && (
        <div class="banner" role="status">
          {fresh === 1 ? '1 new task' : `${formatNumber(fresh)} new tasks`} since this page loaded.
          <button type="button" class="btn btn-small" onClick={firstPage}>
            Show
          </button>
        </div>
      )}
      {writable && (
        <BulkBar
          selection={selection}
          onSelection={setSelection}
          view={view}
          pageCount={items.length}
          morePages={page?.hasMore === true || view.cursor !== undefined}
          onDone={() => {
            void load(true);
            loadStats();
          }}
        />
      )}
      {error !== null && (
        <p class="form-error" role="alert">
          Could not load tasks: {error}
        </p>
      )}
      <TaskTable
        tasks={page === null ? null : items}
        selectable={writable}
        selection={selection}
        onSelection={setSelection}
        filtered={hasFilters(view)}
      />
      <nav class="pager" aria-label="Pages">
        <button type="button" class="btn" onClick={firstPage} disabled={view.cursor === undefined}>
          Newest
        </button>
        <button type="button" class="btn" onClick={newer} disabled={older.length === 0}>
          ← Newer
        </button>
        <button type="button" class="btn" onClick={olderPage} disabled={page?.hasMore !== true}>
          Older →
        </button>
      </nav>
    </section>
  );
}
