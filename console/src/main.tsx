/** The console: a hash-routed single page over the public API. */
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { setApiBaseUrl, setTokenSource } from './api/client.js';
import { loadConfig } from './auth/config.js';
import { type Session, startSession } from './auth/session.js';
import { CorrectionsPage } from './pages/corrections.js';
import { MeterPage } from './pages/meter-page.js';
import { MeterTypeFormPage } from './pages/meter-type-form.js';
import { MeterTypesPage } from './pages/meter-types.js';
import { MetersPage } from './pages/meters.js';
import { OverviewPage } from './pages/overview.js';
import { RecordsPage } from './pages/records.js';
import { StreamPage, StreamsPage } from './pages/streams.js';

const NAV = [
  ['#/', 'Overview'],
  ['#/meter-types', 'Meter types'],
  ['#/meters', 'Meters'],
  ['#/streams', 'Streams'],
  ['#/corrections', 'Data corrections'],
  ['#/records', 'Records'],
] as const;

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const onChange = () => setHash(location.hash || '#/');
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

/** The page for a hash like `#/meters/abc?x=1`. */
function route(hash: string) {
  const [path = '/'] = hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [section, id] = parts;
  switch (section) {
    case undefined:
      return <OverviewPage />;
    case 'meter-types':
      return id ? (
        <MeterTypeFormPage key={id} id={id === 'new' ? undefined : id} />
      ) : (
        <MeterTypesPage />
      );
    case 'meters':
      return id ? <MeterPage key={id} id={id} /> : <MetersPage />;
    case 'streams':
      return id ? <StreamPage key={id} name={id} /> : <StreamsPage />;
    case 'corrections':
      return <CorrectionsPage />;
    case 'records':
      return <RecordsPage />;
    default:
      return <p>No such page: {path}</p>;
  }
}

/** Who is signed in, and sign-out (only with sign-in, i.e. a config.json with `auth`). */
function SignedIn({ session }: { session: Session }) {
  return (
    <div class="signed-in">
      <span>
        Signed in as <strong>{session.user}</strong>
      </span>
      <button type="button" onClick={() => session.signOut()}>
        Sign out
      </button>
    </div>
  );
}

function App({ session }: { session?: Session | undefined }) {
  const hash = useHash();
  const section = `#/${hash.slice(2).split(/[/?]/)[0] ?? ''}`;
  useEffect(() => {
    document.getElementById('main')?.focus();
  }, [section]);
  return (
    <>
      <header>
        <span class="brand">Usage metering</span>
        <nav aria-label="Sections">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <a href={href} aria-current={section === href ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {session && <SignedIn session={session} />}
      </header>
      <main id="main" tabIndex={-1}>
        {route(hash)}
      </main>
    </>
  );
}

declare const LIVE_RELOAD_URL: string;
if (LIVE_RELOAD_URL) {
  new EventSource(LIVE_RELOAD_URL).addEventListener('change', () => location.reload());
}

/** Reads config.json, signs in when it asks for sign-in, then shows the console. */
async function start(root: HTMLElement): Promise<void> {
  const config = await loadConfig();
  setApiBaseUrl(config.apiBaseUrl);
  let session: Session | undefined;
  if (config.auth) {
    try {
      session = await startSession(config.auth);
    } catch (error) {
      render(<SignInFailed message={String((error as Error).message ?? error)} />, root);
      return;
    }
    if (!session) return; // on the way to the sign-in page
    setTokenSource(session);
  }
  render(<App session={session} />, root);
}

function SignInFailed({ message }: { message: string }) {
  return (
    <main id="main">
      <h1>Sign-in failed</h1>
      <p role="alert">{message}</p>
      <p>
        <a href={location.pathname}>Sign in again</a>
      </p>
    </main>
  );
}

const root = document.getElementById('app');
if (root) void start(root);
