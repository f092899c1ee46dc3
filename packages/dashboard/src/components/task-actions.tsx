/** What a key with tasks:write may do to a task in its status: cancel (asked first), retry, approve, reject, archive. */
import type { Task, TaskAction } from '@tasklane/sdk';
import { useState } from 'preact/hooks';
import { isActive } from '../lib/format.js';
import { describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';
import { ConfirmDialog } from './confirm-dialog.js';

export function TaskActions({ task, onChanged }: { task: Task; onChanged: (t: Task) => void }) {
  const { client } = useSession();
  const [dialog, setDialog] = useState<'cancel' | 'reject' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [requeue, setRequeue] = useState(false);
  const name = task.identifier ?? task.title;

  const act = async (action: TaskAction, body: { reason?: string; requeue?: boolean } = {}) => {
    setBusy(true);
    setError(null);
    try {
      onChanged(await client.tasks.action(task.id, action, body));
      setDialog(null);
    } catch (err) {
      setError(describeError(err));
      setDialog(null);
    } finally {
      setBusy(false);
    }
  };

  const review = task.status === 'needs_review';
  const ended = task.status === 'failed' || task.status === 'canceled';
  return (
    <div class="actions" role="group" aria-label="Actions">
      {review && (
        <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void act('approve')}>
          Approve
        </button>
      )}
      {review && (
        <button type="button" class="btn" disabled={busy} onClick={() => setDialog('reject')}>
          Reject…
        </button>
      )}
      {ended && (
        <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void act('retry')}>
          Retry
        </button>
      )}
      {isActive(task.status) && (
        <button type="button" class="btn btn-danger-outline" disabled={busy} onClick={() => setDialog('cancel')}>
          Cancel task
        </button>
      )}
      {task.archivedAt === null ? (
        <button type="button" class="btn" disabled={busy} onClick={() => void act('archive')}>
          Archive
        </button>
      ) : (
        <button type="button" class="btn" disabled={busy} onClick={() => void act('unarchive')}>
          Unarchive
        </button>
      )}
      {error !== null && (
        <p class="form-error actions-error" role="alert">
          {error}
        </p>
      )}
      {dialog === 'cancel' && (
        <ConfirmDialog
          title={`Cancel ${name}?`}
          confirmLabel="Cancel task"
          danger
          busy={busy}
          onConfirm={() => void act('cancel', reason.trim() === '' ? {} : { reason: reason.trim() })}
          onClose={() => setDialog(null)}
        >
          <p>
            The task stops here: a worker holding it is told on its next call, and tasks that depend on it may be
            canceled too.
          </p>
          <label for="cancel-reason">Reason (optional, kept as a step)</label>
          <input id="cancel-reason" type="text" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </ConfirmDialog>
      )}
      {dialog === 'reject' && (
        <ConfirmDialog
          title={`Reject ${name}?`}
          confirmLabel="Reject"
          danger
          busy={busy}
          disabled={reason.trim() === ''}
          onConfirm={() => void act('reject', { reason: reason.trim(), requeue })}
          onClose={() => setDialog(null)}
        >
          <label for="reject-reason">Reason</label>
          <textarea
            id="reject-reason"
            rows={3}
            required
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
          <div class="field-check">
            <input
              id="reject-requeue"
              type="checkbox"
              checked={requeue}
              onChange={(e) => setRequeue(e.currentTarget.checked)}
            />
            <label for="reject-requeue">Send it back to the queue instead of failing it</label>
          </div>
        </ConfirmDialog>
      )}
    </div>
  );
}
