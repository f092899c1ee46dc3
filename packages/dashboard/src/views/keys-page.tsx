/** API keys of the org (admin): listed without secrets; a new key's secret is shown once; revoke. */
import type { KeyInfo, KeyWithSecret, Scope } from '@tasklane/sdk';
import { SCOPES } from '../lib/wire.js';
import { useEffect, useState } from 'preact/hooks';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { CopyButton } from '../components/copy-button.js';
import { RelativeTime } from '../components/relative-time.js';
import { can, describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';

export function KeysPage() {
  const { client, who } = useSession();
  const [keys, setKeys] = useState<KeyInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<KeyWithSecret | null>(null);
  const [revoking, setRevoking] = useState<KeyInfo | null>(null);
  const [busy, setBusy] = useState(false);
  const load = () => client.keys.list().then(setKeys, (e: unknown) => setError(describeError(e)));
  useEffect(() => void load(), [client]);

  if (!can(who, 'admin')) {
    return (
      <section class="empty-page">
        <h1>API keys</h1>
        <p>Managing keys needs a key with the admin scope.</p>
      </section>
    );
  }
  const revoke = async () => {
    if (revoking === null) return;
    setBusy(true);
    try {
      await client.keys.revoke(revoking.id);
      setRevoking(null);
      await load();
    } catch (err) {
      setError(describeError(err));
      setRevoking(null);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="stack" aria-labelledby="keys-title">
      <div class="page-head">
        <div>
          <h1 id="keys-title">API keys</h1>
          <p class="muted page-sub">Only a key's SHA-256 is stored: a secret is shown once, when the key is made.</p>
        </div>
      </div>
      {created !== null && (
        <section class="card card-secret" aria-labelledby="secret-title">
          <h2 id="secret-title">Key “{created.name}” created</h2>
          <p>Copy its secret now: it will not be shown again.</p>
          <div class="secret-row">
            <code class="mono secret">{created.secret}</code>
            <CopyButton text={created.secret} label="Copy the new key's secret" />
          </div>
          <button type="button" class="btn btn-small btn-ghost" onClick={() => setCreated(null)}>
            I have stored it
          </button>
        </section>
      )}
      <CreateKeyForm
        canGiveRoot={who.scopes.includes('root')}
        onCreated={(k) => {
          setCreated(k);
          void load();
        }}
      />
      {error !== null && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <div class="table-wrap">
        <table class="tasks" aria-label="API keys" aria-busy={keys === null}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Id</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(keys ?? []).map((k) => (
              <tr key={k.id} class={k.revokedAt !== null ? 'is-dim' : undefined}>
                <td class="strong">{k.name}</td>
                <td class="mono small">{k.id}</td>
                <td>
                  {k.scopes.map((s) => (
                    <span class="tag" key={s}>
                      {s}
                    </span>
                  ))}
                </td>
                <td>
                  <RelativeTime iso={k.createdAt} />
                </td>
                <td>
                  <RelativeTime iso={k.expiresAt} />
                </td>
                <td>{k.revokedAt !== null ? 'revoked' : k.id === who.keyId ? 'active (this session)' : 'active'}</td>
                <td>
                  {k.revokedAt === null && k.id !== who.keyId && (
                    <button type="button" class="btn btn-small btn-danger-outline" onClick={() => setRevoking(k)}>
                      Revoke<span class="visually-hidden"> {k.name}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {revoking !== null && (
        <ConfirmDialog
          title={`Revoke “${revoking.name}”?`}
          confirmLabel="Revoke key"
          danger
          busy={busy}
          onConfirm={() => void revoke()}
          onClose={() => setRevoking(null)}
        >
          <p>Every request with this key is refused from now on. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function CreateKeyForm({ canGiveRoot, onCreated }: { canGiveRoot: boolean; onCreated: (k: KeyWithSecret) => void }) {
  const { client } = useSession();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['tasks:read']);
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const toggle = (s: Scope) => setScopes((list) => (list.includes(s) ? list.filter((x) => x !== s) : [...list, s]));
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const key = await client.keys.create({
        name: name.trim(),
        scopes,
        ...(expires === '' ? {} : { expiresAt: new Date(expires).toISOString() }),
      });
      setName('');
      onCreated(key);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card create-key" onSubmit={submit} aria-labelledby="create-key-title">
      <h2 id="create-key-title">New key</h2>
      <div class="create-key-row">
        <div class="field">
          <label for="k-name">Name</label>
          <input
            id="k-name"
            type="text"
            required
            maxLength={200}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </div>
        <fieldset class="field scopes">
          <legend>Scopes</legend>
          {SCOPES.filter((s) => s !== 'root' || canGiveRoot).map((s) => (
            <label key={s} class="check">
              <input type="checkbox" checked={scopes.includes(s)} onChange={() => toggle(s)} /> {s}
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label for="k-expires">Expires (optional)</label>
          <input
            id="k-expires"
            type="datetime-local"
            value={expires}
            onInput={(e) => setExpires(e.currentTarget.value)}
          />
        </div>
        <button type="submit" class="btn btn-primary" disabled={busy || name.trim() === '' || scopes.length === 0}>
          {busy ? 'Creating…' : 'Create key'}
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
