/**
 * A type's concurrency and rate limit. PUT /v1/types/{type} replaces every setting, so the form
 * sends the type's defaults back unchanged with the limits.
 */
import type { TypeSettings } from '@tasklane/sdk';
import { useState } from 'preact/hooks';
import { formatDuration } from '../lib/format.js';
import { describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';

export function TypeLimitsForm(p: {
  type: string;
  settings: TypeSettings | null;
  editable: boolean;
  onSaved: (s: TypeSettings) => void;
}) {
  const { client } = useSession();
  const s = p.settings;
  const [concurrency, setConcurrency] = useState(s?.concurrency == null ? '' : String(s.concurrency));
  const [count, setCount] = useState(s?.rateLimit == null ? '' : String(s.rateLimit.count));
  const [perSeconds, setPerSeconds] = useState(s?.rateLimit == null ? '' : String(s.rateLimit.perMs / 1000));
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  if (!p.editable) {
    return (
      <dl class="facts">
        <dt>Concurrency</dt>
        <dd>{s?.concurrency ?? 'no limit'}</dd>
        <dt>Rate limit</dt>
        <dd>{s?.rateLimit == null ? 'no limit' : `${s.rateLimit.count} per ${formatDuration(s.rateLimit.perMs)}`}</dd>
      </dl>
    );
  }

  const save = async (e: Event) => {
    e.preventDefault();
    const c = concurrency.trim() === '' ? null : Number(concurrency);
    const rate =
      count.trim() === '' && perSeconds.trim() === ''
        ? null
        : { count: Number(count), perMs: Math.round(Number(perSeconds) * 1000) };
    setBusy(true);
    setMessage(null);
    try {
      const saved = await client.types.put(p.type, { concurrency: c, rateLimit: rate, defaults: s?.defaults ?? {} });
      p.onSaved(saved);
      setMessage({ ok: true, text: 'Saved.' });
    } catch (err) {
      setMessage({ ok: false, text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="limits" onSubmit={save}>
      <div class="field">
        <label for="l-concurrency">Concurrency (in progress at once)</label>
        <input
          id="l-concurrency"
          type="number"
          min={1}
          max={100000}
          placeholder="no limit"
          value={concurrency}
          onInput={(e) => setConcurrency(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="l-count">Rate limit: claims</label>
        <input
          id="l-count"
          type="number"
          min={1}
          placeholder="no limit"
          value={count}
          onInput={(e) => setCount(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="l-per">per seconds</label>
        <input
          id="l-per"
          type="number"
          min={0.001}
          step="any"
          placeholder="—"
          value={perSeconds}
          onInput={(e) => setPerSeconds(e.currentTarget.value)}
        />
      </div>
      <button type="submit" class="btn btn-primary" disabled={busy}>
        {busy ? 'Saving…' : 'Save limits'}
      </button>
      {message !== null && (
        <p class={message.ok ? 'form-ok' : 'form-error'} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
    </form>
  );
}
