/** A view's event stream as a hook: opened while the view is shown, handlers always the latest. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { TaskEvent } from './events.js';
import { documentVisibility, openEventStream, type StreamState } from './event-stream.js';

export interface StreamHandlers {
  onEvent: (event: TaskEvent) => void;
  onReset?: (reason: string) => void;
  onOpen?: (resumed: boolean) => void;
  reconnectOnEnd?: () => boolean;
}

/**
 * Whether the server that served this page streams events. It says so in the page
 * (`<meta name="tasklane-events" content="available|absent">`); a page without the tag (the Vite
 * dev server) tries, and takes a 404 as "absent".
 */
export function serverStreamsEvents(): boolean {
  const meta = document.querySelector('meta[name="tasklane-events"]');
  return meta?.getAttribute('content') !== 'absent';
}

/** `path` null: no stream. The state is 'connecting' until the first answer. */
export function useEventStream(path: string | null, key: string, handlers: StreamHandlers): StreamState {
  const streams = serverStreamsEvents();
  const [state, setState] = useState<StreamState>(streams ? 'connecting' : 'unavailable');
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    if (path === null || !streams) return;
    setState('connecting');
    const stream = openEventStream({
      path,
      key,
      visibility: documentVisibility,
      onEvent: (e) => ref.current.onEvent(e),
      onReset: (reason) => ref.current.onReset?.(reason),
      onOpen: (resumed) => ref.current.onOpen?.(resumed),
      onState: setState,
      reconnectOnEnd: () => ref.current.reconnectOnEnd?.() ?? true,
    });
    return () => stream.close();
  }, [path, key, streams]);
  return state;
}
