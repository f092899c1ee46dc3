/** A JSON value as text in a collapsible block: whatever it holds is shown, never run. */
export function JsonView({ title, value, open }: { title: string; value: unknown; open?: boolean }) {
  if (value === null || value === undefined) {
    return (
      <div class="json-empty">
        <span class="json-title">{title}</span> <span class="muted">none</span>
      </div>
    );
  }
  const text = JSON.stringify(value, null, 2);
  return (
    <details class="json" open={open}>
      <summary>
        <span class="json-title">{title}</span> <span class="muted">{sizeOf(text)}</span>
      </summary>
      <pre tabIndex={0} aria-label={title}>
        {text}
      </pre>
    </details>
  );
}

function sizeOf(text: string): string {
  const n = new TextEncoder().encode(text).length;
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}
