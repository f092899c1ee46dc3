import { useState } from 'preact/hooks';

/** Copies `text` to the clipboard and says so (for screen readers too). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState<'copied' | 'failed' | null>(null);
  const copy = () => {
    navigator.clipboard.writeText(text).then(
      () => setDone('copied'),
      () => setDone('failed'),
    );
    setTimeout(() => setDone(null), 2000);
  };
  return (
    <button type="button" class="btn btn-small" onClick={copy} aria-label={label}>
      <span aria-live="polite">{done === 'copied' ? 'Copied' : done === 'failed' ? 'Copy failed' : 'Copy'}</span>
    </button>
  );
}
