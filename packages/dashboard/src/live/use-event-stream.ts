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

/** `path` null: no stream. The state is 'connecting' until the first answer. */
export function useEventStream(path: string | null, key: string, handlers: StreamHandlers): StreamState {
  const [state, setState] = useState<StreamState>('connecting');
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    if (path === null) return;
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
  }, [path, key]);
  return state;
}
