/** The form that registers a webhook endpoint: URL, event types, and the optional filters. */
import type { EventType, WebhookCreate, WebhookWithSecret } from '@tasklane/sdk';
import { useState } from 'preact/hooks';
import { describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';
import { EVENT_TYPES } from '../lib/wire.js';

export function WebhookForm({ onCreated }: { onCreated: (hook: WebhookWithSecret) => void }) {
  const { client } = useSession();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<EventType[]>(['task.status_changed']);
  const [taskTypes, setTaskTypes] = useState('');
  const [listId, setListId] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const toggle = (e: EventType) => setEvents((list) => (list.includes(e) ? list.filter((x) => x !== e) : [...list, e]));
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const types = [
      ...new Set(
        taskTypes
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t !== ''),
      ),
    ];
    const body: WebhookCreate = { url: url.trim(), events };
    if (types.length > 0) body.taskTypes = types;
    if (listId.trim() !== '') body.listId = listId.trim();
    if (description.trim() !== '') body.description = description.trim();
    try {
      const hook = await client.webhooks.create(body);
      setUrl('');
      setTaskTypes('');
      setListId('');
      setDescription('');
      onCreated(hook);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card webhook-form" onSubmit={submit} aria-labelledby="create-hook-title">
      <h2 id="create-hook-title">New endpoint</h2>
      <div class="create-key-row">
        <div class="field field-wide">
          <label for="wh-url">Endpoint URL</label>
          <input
            id="wh-url"
            type="url"
            required
            maxLength={2048}
            placeholder="https://example.com/hooks/tasklane"
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="wh-types">Task types (optional, comma-separated)</label>
          <input id="wh-types" type="text" value={taskTypes} onInput={(e) => setTaskTypes(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="wh-list">List id (optional)</label>
          <input
            id="wh-list"
            type="text"
            maxLength={200}
            value={listId}
            onInput={(e) => setListId(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="wh-description">Description (optional)</label>
          <input
            id="wh-description"
            type="text"
            maxLength={1000}
            value={description}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </div>
      </div>
      <fieldset class="field scopes">
        <legend>Events</legend>
        {EVENT_TYPES.map((t) => (
          <label key={t} class="check">
            <input type="checkbox" checked={events.includes(t)} onChange={() => toggle(t)} /> {t}
          </label>
        ))}
      </fieldset>
      <div class="row-end">
        <button type="submit" class="btn btn-primary" disabled={busy || url.trim() === '' || events.length === 0}>
          {busy ? 'Creating…' : 'Create webhook'}
        </button>
      </div>
      {error !== null && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
