/**
 * One box for both ways of finding a task: an id or an identifier (OPS-42) opens that task; any
 * other text, or an identifier no task has, lists the tasks whose title contains it (GET /v1/tasks
 * `q`, with the list's other filters kept).
 */
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { TasklaneApiError } from '@tasklane/sdk';
import { SEARCH_MAX, taskRefOf } from '../lib/filters.js';
import { describeError } from '../lib/session.js';
import { useSession } from '../lib/session-context.js';

export function SearchBox({ onSearch }: { onSearch: (titleText: string) => void }) {
  const { client } = useSession();
  const { route } = useLocation();
  const [text, setText] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const words = text.trim();
    setMessage(null);
    if (words === '') return;
    const ref = taskRefOf(words);
    if (ref !== null) {
      try {
        const task = await client.tasks.get(ref);
        setText('');
        route(`/tasks/${task.id}`);
        return;
      } catch (err) {
        // No such task: the text may still be part of a title.
        if (!(err instanceof TasklaneApiError && err.status === 404)) {
          setMessage(describeError(err));
          return;
        }
      }
    }
    onSearch(words);
  };
  return (
    <form role="search" class="search" onSubmit={submit}>
      <label for="task-search" class="visually-hidden">
        Open a task by id or identifier, or search titles
      </label>
      <input
        id="task-search"
        type="search"
        placeholder="Task id, OPS-42, or words of a title"
        value={text}
        maxLength={SEARCH_MAX}
        onInput={(e) => setText(e.currentTarget.value)}
        aria-describedby={message === null ? undefined : 'search-message'}
        autoComplete="off"
        spellcheck={false}
      />
      <button type="submit" class="btn">
        Search
      </button>
      {message !== null && (
        <p id="search-message" class="search-message" role="status">
          {message}
        </p>
      )}
    </form>
  );
}
