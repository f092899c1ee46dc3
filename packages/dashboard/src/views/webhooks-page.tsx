/**
 * Webhook endpoints of the org (admin): listed (URL, events, filters, enabled or disabled and why),
 * created (the signing secret shown once, with a copy button), enabled or disabled, its secret
 * rotated or the endpoint deleted after a confirmation, and each one's recent deliveries with Retry.
 */
import type { Webhook } from '@tasklane/sdk';
import { useEffect, useState } from 'preact/hooks';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { CopyButton } from '../components/copy-button.js';
import { EndpointDeliveries } from '../components/endpoint-deliveries.js';
import { RelativeTime } from '../components/relative-time.js';
import { WebhookForm } from '../components/webhook-form.js';
import { can, describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';

export function WebhooksPage() {
  const { client, who } = useSession();
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** A secret to show once: a new endpoint's, or a rotated one. */
  const [shown, setShown] = useState<{ title: string; url: string; secret: string } | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [rotating, setRotating] = useState<Webhook | null>(null);
  const [busy, setBusy] = useState(false);
  const admin = can(who, 'admin');
  const load = () => client.webhooks.list().then(setHooks, (e: unknown) => setError(describeError(e)));
  useEffect(() => void (admin ? load() : undefined), [client, admin]);

  if (!admin) {
    return (
      <section class="empty-page">
        <h1>Webhooks</h1>
        <p>Managing webhooks needs a key with the admin scope.</p>
      </section>
    );
  }
  const remove = async () => {
    if (deleting === null) return;
    setBusy(true);
    try {
      await client.webhooks.delete(deleting.id);
      await load();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setDeleting(null);
      setBusy(false);
    }
  };
  const rotate = async () => {
    if (rotating === null) return;
    setBusy(true);
    try {
      const { secret, ...hook } = await client.webhooks.update(rotating.id, { rotateSecret: true });
      if (secret !== undefined) setShown({ title: 'Signing secret rotated', url: hook.url, secret });
      replace(hook);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setRotating(null);
      setBusy(false);
    }
  };
  const replace = (hook: Webhook) => setHooks((list) => (list ?? []).map((h) => (h.id === hook.id ? hook : h)));
  return (
    <section class="stack" aria-labelledby="hooks-title">
      <div class="page-head">
        <div>
          <h1 id="hooks-title">Webhooks</h1>
          <p class="muted page-sub">
            Task events POSTed to your endpoints, signed as Standard Webhooks say; each is retried for a day and a half.
          </p>
        </div>
      </div>
      {shown !== null && (
        <section class="card card-secret" aria-labelledby="hook-secret-title">
          <h2 id="hook-secret-title">{shown.title}</h2>
          <p>
            Copy its signing secret now: it will not be shown again. Deliveries to <span class="mono">{shown.url}</span>{' '}
            are signed with it.
          </p>
          <div class="secret-row">
            <code class="mono secret">{shown.secret}</code>
            <CopyButton text={shown.secret} label="Copy the webhook's signing secret" />
          </div>
          <button type="button" class="btn btn-small btn-ghost" onClick={() => setShown(null)}>
            I have stored it
          </button>
        </section>
      )}
      <WebhookForm
        onCreated={(hook) => {
          setShown({ title: 'Webhook created', url: hook.url, secret: hook.secret });
          void load();
        }}
      />
      {error !== null && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <div aria-busy={hooks === null}>
        {hooks !== null && hooks.length === 0 && <p class="muted">No webhook endpoints yet.</p>}
        <ul class="webhooks" aria-label="Webhook endpoints">
          {(hooks ?? []).map((h) => (
            <Endpoint
              key={h.id}
              hook={h}
              onChanged={replace}
              onDelete={() => setDeleting(h)}
              onRotate={() => setRotating(h)}
            />
          ))}
        </ul>
      </div>
      {rotating !== null && (
        <ConfirmDialog
          title="Rotate the signing secret?"
          confirmLabel="Rotate secret"
          busy={busy}
          onConfirm={() => void rotate()}
          onClose={() => setRotating(null)}
        >
          <p>
            A new secret signs deliveries to <span class="mono">{rotating.url}</span> from now on; the current one keeps
            signing beside it for 24 hours, so receivers can switch without missing one.
          </p>
        </ConfirmDialog>
      )}
      {deleting !== null && (
        <ConfirmDialog
          title="Delete this webhook?"
          confirmLabel="Delete webhook"
          danger
          busy={busy}
          onConfirm={() => void remove()}
          onClose={() => setDeleting(null)}
        >
          <p>
            Nothing more is sent to <span class="mono">{deleting.url}</span>, and its delivery log goes with it. This
            cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function Endpoint({
  hook,
  onChanged,
  onDelete,
  onRotate,
}: {
  hook: Webhook;
  onChanged: (h: Webhook) => void;
  onDelete: () => void;
  onRotate: () => void;
}) {
  const { client } = useSession();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const logId = `deliveries-${hook.id}`;
  const titleId = `hook-${hook.id}`;
  const setEnabled = async (enabled: boolean) => {
    setBusy(true);
    setError(null);
    try {
      onChanged(await client.webhooks.update(hook.id, { enabled }));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="card webhook" data-webhook-id={hook.id} aria-labelledby={titleId}>
      <div class="webhook-head">
        <h2 id={titleId} class="webhook-url mono">
          {hook.url}
        </h2>
        <span class={`tag${hook.enabled ? '' : ' tag-warn'}`}>{hook.enabled ? 'Enabled' : 'Disabled'}</span>
      </div>
      {!hook.enabled && hook.disabledReason !== null && <p class="banner banner-warn">{hook.disabledReason}</p>}
      {hook.description !== null && <p>{hook.description}</p>}
      <dl class="facts">
        <dt>Events</dt>
        <dd>
          <ul class="tags">
            {hook.events.map((e) => (
              <li class="tag mono" key={e}>
                {e}
              </li>
            ))}
          </ul>
        </dd>
        <dt>Task types</dt>
        <dd>{hook.taskTypes === null ? <span class="muted">all</span> : hook.taskTypes.join(', ')}</dd>
        {hook.listId !== null && (
          <>
            <dt>List</dt>
            <dd class="mono">{hook.listId}</dd>
          </>
        )}
        <dt>Id</dt>
        <dd class="mono small">{hook.id}</dd>
        <dt>Created</dt>
        <dd>
          <RelativeTime iso={hook.createdAt} />
        </dd>
      </dl>
      <div class="actions">
        <button
          type="button"
          class="btn btn-small"
          aria-expanded={open}
          aria-controls={logId}
          onClick={() => setOpen(!open)}
        >
          {open ? 'Hide deliveries' : 'Show deliveries'}
        </button>
        <button type="button" class="btn btn-small" disabled={busy} onClick={() => void setEnabled(!hook.enabled)}>
          {hook.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" class="btn btn-small" onClick={onRotate}>
          Rotate secret
        </button>
        <button type="button" class="btn btn-small btn-danger-outline" onClick={onDelete}>
          Delete<span class="visually-hidden"> webhook {hook.url}</span>
        </button>
      </div>
      {error !== null && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {open && <EndpointDeliveries webhookId={hook.id} id={logId} label={`Deliveries to ${hook.url}`} />}
    </li>
  );
}
