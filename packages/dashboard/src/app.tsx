/** The dashboard: sign in, then tasks, a task, types, keys and webhooks, each at an address of its own. */
import { useEffect, useState } from 'preact/hooks';
import lazy, { ErrorBoundary } from 'preact-iso/lazy';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso/router';
import { Logo } from './components/logo.js';
import { LiveIndicator, LiveStatusProvider } from './live/live-status.js';
import { can, describeError, resume, signOut, type Session } from './lib/session.js';
import { SessionContext } from './lib/session-context.js';
import { SignIn } from './views/sign-in.js';
import { TaskList } from './views/task-list.js';
import { TaskPage } from './views/task-page.js';
import { NotFound } from './views/not-found.js';

// The types pages carry the chart library: loaded when first opened.
const TypesPage = lazy(() => import('./views/types-page.js').then((m) => m.TypesPage));
const TypePage = lazy(() => import('./views/type-page.js').then((m) => m.TypePage));
const KeysPage = lazy(() => import('./views/keys-page.js').then((m) => m.KeysPage));
const WebhooksPage = lazy(() => import('./views/webhooks-page.js').then((m) => m.WebhooksPage));

export function App() {
  const [session, setSession] = useState<Session | null | 'loading'>('loading');
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    resume().then(setSession, (err: unknown) => {
      setNotice(describeError(err));
      setSession(null);
    });
  }, []);
  if (session === 'loading') return <div class="splash" aria-busy="true" />;
  if (session === null) return <SignIn onSignedIn={setSession} notice={notice} />;
  const out = () => {
    signOut();
    setNotice(null);
    setSession(null);
  };
  return (
    <SessionContext.Provider value={session}>
      <LiveStatusProvider>
        <LocationProvider>
          <Shell session={session} onSignOut={out}>
            <ErrorBoundary>
              <Router>
                <Route path="/" component={TaskList} />
                <Route path="/tasks" component={TaskList} />
                <Route path="/tasks/:id" component={TaskPage} />
                <Route path="/types" component={TypesPage} />
                <Route path="/types/:type" component={TypePage} />
                <Route path="/keys" component={KeysPage} />
                <Route path="/webhooks" component={WebhooksPage} />
                <Route default component={NotFound} />
              </Router>
            </ErrorBoundary>
          </Shell>
        </LocationProvider>
      </LiveStatusProvider>
    </SessionContext.Provider>
  );
}

function Shell({ session, onSignOut, children }: { session: Session; onSignOut: () => void; children: unknown }) {
  const { path } = useLocation();
  const section = ['types', 'keys', 'webhooks'].find((s) => path.startsWith(`/${s}`)) ?? 'tasks';
  const link = (href: string, name: string, id: string) => (
    <a href={href} class="nav-link" aria-current={section === id ? 'page' : undefined}>
      {name}
    </a>
  );
  return (
    <>
      <a href="#main" class="skip-link">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <a href="/" class="brand" aria-label="Tasklane, all tasks">
            <Logo />
          </a>
          <nav aria-label="Sections" class="nav">
            {link('/', 'Tasks', 'tasks')}
            {link('/types', 'Types & queues', 'types')}
            {can(session.who, 'admin') && link('/keys', 'API keys', 'keys')}
            {can(session.who, 'admin') && link('/webhooks', 'Webhooks', 'webhooks')}
          </nav>
          <div class="topbar-right">
            <LiveIndicator />
            <span class="who" title={`Key ${session.who.keyId} of org ${session.who.orgId}`}>
              <span class="who-name">{session.who.name}</span>
              <span class="who-org">{session.who.orgId}</span>
            </span>
            <button type="button" class="btn btn-ghost" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" class="page" tabIndex={-1}>
        {children as never}
      </main>
    </>
  );
}
