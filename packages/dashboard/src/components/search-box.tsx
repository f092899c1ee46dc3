/**
 * Opens a task by id or identifier (OPS-42). Title search needs a `q` filter on GET /v1/tasks,
 * which waits for the storage rework (see packages/dashboard/README.md): until then the box says so.
 */
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { TasklaneApiError } from '@tasklane/sdk';
import { taskRefOf } from '../lib/filters.js';
import { describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';

export function SearchBox() {
  const { client } = useSession();
  const { route } = useLocation();
  const [text, setText] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const ref = taskRefOf(text);
    if (ref === null) {
      setMessage(
        text.trim() === ''
          ? null
          : 'Enter a task id or an identifier such as OPS-42 (title search is not available yet).',
      );
      return;
    }
    try {
      const task = await client.tasks.get(ref);
      setMessage(null);
      setText('');
      route(`/tasks/${task.id}`);
    } catch (err) {
      setMessage(err instanceof TasklaneApiError && err.status === 404 ? `No task ${ref}.` : describeError(err));
    }
  };
  return (
    <form role="search" class="search" onSubmit={submit}>
      <label for="task-search" class="visually-hidden">
        Open a task by id or identifier
      </label>
      <input
        id="task-search"
        type="search"
        placeholder="Open a task: id or OPS-42"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        aria-describedby={message === null ? undefined : 'search-message'}
        autoComplete="off"
        spellcheck={false}
      />
      <button type="submit" class="btn">
        Open
      </button>
      {message !== null && (
        <p id="search-message" class="search-message" role="status">
          {message}
        </p>
      )}
    </form>
  );
}
