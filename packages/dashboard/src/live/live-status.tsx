/** What the header's live indicator shows: the state of the stream the current view reads. */
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { StreamState } from './event-stream.js';

type Setter = (state: StreamState | null) => void;
const LiveContext = createContext<{ state: StreamState | null; set: Setter }>({ state: null, set: () => undefined });

export function LiveStatusProvider({ children }: { children: ComponentChildren }) {
  const [state, set] = useState<StreamState | null>(null);
  return <LiveContext.Provider value={{ state, set }}>{children}</LiveContext.Provider>;
}

/** A view tells the header how its stream is doing (and that it has none once it is gone). */
export function useReportLiveState(state: StreamState | null): void {
  const { set } = useContext(LiveContext);
  useEffect(() => set(state), [state, set]);
  useEffect(() => () => set(null), [set]);
}

const LABELS: Record<StreamState, { text: string; tone: string; title: string }> = {
  connecting: { text: 'Connecting', tone: 'wait', title: 'Opening the event stream' },
  live: { text: 'Live', tone: 'live', title: 'Changes appear as they happen' },
  paused: { text: 'Paused', tone: 'wait', title: 'Paused while this tab is hidden; resumes where it left off' },
  retrying: { text: 'Reconnecting', tone: 'wait', title: 'The connection dropped; reconnecting without losing events' },
  unavailable: {
    text: 'Not live',
    tone: 'off',
    title: 'The server refused the event stream (the key or the task is gone): reload to see changes',
  },
  ended: { text: 'Final', tone: 'off', title: 'The task is done: no more changes will come' },
};

export function LiveIndicator() {
  const { state } = useContext(LiveContext);
  if (state === null) return null;
  const l = LABELS[state];
  return (
    <span class={`live live-${l.tone}`} title={l.title} role="status">
      <span class="live-dot" aria-hidden="true" />
      {l.text}
    </span>
  );
}
