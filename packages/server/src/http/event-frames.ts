/**
 * Events on the wire (the TaskEvent schema of @tasklane/sdk/schemas): an event's JSON, its SSE frame,
 * the reset frame, and the JSON page. The feed hands the same event object to every stream of an
 * org, so each event is rendered once however many streams send it (a WeakMap: gone with the event).
 */
import type { StoredEvent } from '../storage/task-store.js';
import type { DeliveredEvent } from '../storage/webhook-store.js';
import type { EventPage } from '../service/event-service.js';
import type { StreamReset } from '../service/event-stream.js';
import { iso } from './presenters.js';

/** The client's reconnection delay the stream announces first (`retry:`), in ms. */
export const RETRY_MS = 2000;

interface Rendered {
  json: string;
  /** The SSE frame, encoded once: each stream's socket takes the same bytes. */
  frame: Buffer;
}

const rendered = new WeakMap<StoredEvent, Rendered>();

function render(event: StoredEvent): Rendered {
  let r = rendered.get(event);
  if (r === undefined) {
    const json = JSON.stringify(presentEvent(event));
    // JSON.stringify escapes CR and LF, so the data is one line whatever the event holds.
    r = { json, frame: Buffer.from(`id: ${event.id}\nevent: ${event.type}\ndata: ${json}\n\n`) };
    rendered.set(event, r);
  }
  return r;
}

/** `{ id, type, taskId, time, data }`, times as RFC 3339 (a step's time too). */
export function presentEvent(event: StoredEvent) {
  return { id: event.id, type: event.type, taskId: event.taskId, time: iso(event.time), data: presentData(event) };
}

/** The stored data, with a step's time (epoch ms in storage) as RFC 3339. */
function presentData(event: StoredEvent): unknown {
  const data = event.data;
  if (event.type !== 'task.step' || data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const step = data.step;
  if (step === null || typeof step !== 'object' || Array.isArray(step) || typeof step.time !== 'number') return data;
  return { ...data, step: { ...step, time: iso(step.time) } };
}

/** A webhook delivery's body: the event's JSON exactly as an SSE `data:` line carries it. */
export const deliveryBody = (e: DeliveredEvent): string =>
  JSON.stringify(presentEvent({ ...e, orgId: '', taskType: '', listId: null, projectId: null }));

export const eventFrame = (event: StoredEvent): Buffer => render(event).frame;
export const eventFrameBytes = (event: StoredEvent): number => render(event).frame.length;

export const resetFrame = (reset: StreamReset): string =>
  `id: ${reset.lastId}\nevent: reset\ndata: ${JSON.stringify(resetData(reset))}\n\n`;

/** An `id:` line alone: no event (an EventSource dispatches nothing), only the resume point it keeps. */
export const positionFrame = (id: number): string => `id: ${id}\n\n`;

const resetData = (r: StreamReset) => ({ reason: r.reason, after: r.after, lastId: r.lastId });

/** The JSON page (EventPageSchema) as text, from each event's rendered JSON. */
export function pageJson(page: EventPage): string {
  const items = page.items.map((e) => render(e).json).join(',');
  const reset = page.reset === null ? 'null' : JSON.stringify(resetData(page.reset));
  return `{"items":[${items}],"nextAfter":${page.nextAfter},"reset":${reset}}`;
}
