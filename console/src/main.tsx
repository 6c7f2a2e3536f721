/** The console: a hash-routed single page over the public API. */
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
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

function App() {
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

const root = document.getElementById('app');
if (root) render(<App />, root);
