export function Logo() {
  return (
    <span class="logo">
      <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
        <rect x="2" y="4" width="20" height="4" rx="2" class="logo-lane" />
        <rect x="2" y="10" width="14" height="4" rx="2" class="logo-lane logo-lane-2" />
        <rect x="2" y="16" width="8" height="4" rx="2" class="logo-lane logo-lane-3" />
      </svg>
      <span class="logo-text">Tasklane</span>
    </span>
  );
}
