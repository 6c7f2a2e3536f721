/** Overview: the summary counts, the latest records sent, open data corrections by reason. */
import { api, isMissingRoute, type MeteredRecord, recordList, unwrap } from '../api/client.js';
import { ErrorBox, useLoad } from '../components.js';
import { RecordsTable } from './records.js';

async function correctionCounts(): Promise<{
  counts: { reason: string; count: number }[];
  sample?: number;
}> {
  try {
    return unwrap(await api.GET('/corrections/counts'));
  } catch (error) {
    if (!isMissingRoute(error)) throw error;
    // An API without the counts route: count the latest page instead, and say so.
    const page = unwrap(await api.GET('/corrections', { params: { query: { limit: 100 } } }));
    const counts = new Map<string, number>();
    for (const correction of page.corrections) {
      if (!correction.reprocessedAt)
        counts.set(correction.reason, (counts.get(correction.reason) ?? 0) + 1);
    }
    return {
      counts: [...counts].map(([reason, count]) => ({ reason, count })),
      sample: page.corrections.length,
    };
  }
}

/**
 * The latest records sent: the history is queried per user, meter or meter type, so this asks
 * for the newest of each meter type (of the first 20) and keeps the ten newest period ends.
 */
async function latestRecords(): Promise<MeteredRecord[]> {
  const types = unwrap(await api.GET('/meter-types', { params: { query: { limit: 20 } } }));
  const pages = await Promise.all(
    types.meterTypes.map(async (type) =>
      recordList(
        unwrap(
          await api.GET('/metered-records', {
            params: { query: { meterTypeId: type.id, limit: 10 } },
          }),
        ),
      ),
    ),
  );
  return pages
    .flatMap((page) => page.meteredRecords)
    .sort((a, b) => b.periodEnd.localeCompare(a.periodEnd))
    .slice(0, 10);
}

export function OverviewPage() {
  const summary = useLoad(async () => unwrap(await api.GET('/summary')), [], 10_000);
  const records = useLoad(latestRecords, [], 10_000);
  const corrections = useLoad(correctionCounts, [], 10_000);
  return (
    <>
      <h1>Overview</h1>
      <section aria-labelledby="summary-h">
        <h2 id="summary-h">Summary</h2>
        <ErrorBox error={summary.error} />
        {summary.data ? (
          <ul class="cards">
            <li>
              <a href="#/meter-types">
                <strong>{summary.data.meterTypes}</strong> meter types
              </a>
            </li>
            <li>
              <strong>{summary.data.categories}</strong> categories
            </li>
            <li>
              <a href="#/meters">
                <strong>{summary.data.meters}</strong> meters
              </a>
            </li>
          </ul>
        ) : null}
      </section>
      <section aria-labelledby="corrections-h">
        <h2 id="corrections-h">Open data corrections by reason</h2>
        <ErrorBox error={corrections.error} />
        {corrections.data?.sample !== undefined ? (
          <p class="muted">Counted in the latest {corrections.data.sample} corrections.</p>
        ) : null}
        {corrections.data && corrections.data.counts.length === 0 ? <p>None open.</p> : null}
        <ul class="cards">
          {corrections.data?.counts.map(({ reason, count }) => (
            <li key={reason}>
              <a href={`#/corrections?reason=${encodeURIComponent(reason)}`}>
                <strong>{count}</strong> {reason}
              </a>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="records-h">
        <h2 id="records-h">Latest records sent</h2>
        <ErrorBox error={records.error} />
        {records.data ? <RecordsTable records={records.data} /> : null}
      </section>
    </>
  );
}
