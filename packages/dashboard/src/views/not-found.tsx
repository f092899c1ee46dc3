export function NotFound() {
  return (
    <section class="empty-page">
      <h1>Nothing here</h1>
      <p>
        This address is not a page of the dashboard. <a href="/">See all tasks</a>.
      </p>
    </section>
  );
}
