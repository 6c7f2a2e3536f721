/** Records: the history of metered records, filtered and paged, and its CSV download. */
import { useState } from 'preact/hooks';
import {
  api,
  apiBasePath,
  apiFetch,
  type MeteredRecord,
  recordList,
  unwrap,
} from '../api/client.js';
import { ErrorBox, FilterForm, nonEmpty, useLoad, usePager } from '../components.js';
import { showValue, Time } from '../format.js';

/** The metered records as a table, each time in the record's own time zone. */
export function RecordsTable({ records }: { records: readonly MeteredRecord[] }) {
  if (records.length === 0) return <p>No records.</p>;
  return (
    <table>
      <caption class="visually-hidden">Metered records</caption>
      <thead>
        <tr>
          <th scope="col">Type</th>
          <th scope="col">User</th>
          <th scope="col">Meter type</th>
          <th scope="col">Value</th>
          <th scope="col">Period start</th>
          <th scope="col">Period end</th>
          <th scope="col">Record id</th>
        </tr>
      </thead>
      <tbody>
        {records.map((record) => (
          <tr key={record.recordId}>
            <td>
              {record.recordType}
              {record.threshold ? ` (${record.threshold})` : ''}
            </td>
            <td>{record.userId}</td>
            <td>
              <a href={`#/meters/${encodeURIComponent(record.id)}`}>{record.meterTypeName}</a>
            </td>
            <td class="num">
              {showValue(record.value)} {record.unit}
            </td>
            <td>
              <Time iso={record.periodStart} zone={record.timezone} />
            </td>
            <td>
              <Time iso={record.periodEnd} zone={record.timezone} />
            </td>
            <td>
              <code>{record.recordId}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const FILTERS = [
  { name: 'userId', label: 'User' },
  { name: 'meterId', label: 'Meter id' },
  { name: 'meterTypeId', label: 'Meter type id' },
  { name: 'meterKey', label: 'Meter key' },
  { name: 'recordType', label: 'Record type', options: ['final', 'partial'] },
  { name: 'from', label: 'From (ISO time)' },
  { name: 'to', label: 'To (ISO time)' },
];

/** The CSV of the same query: the API serves it with `Accept: text/csv`. */
async function downloadCsv(filter: Record<string, string>): Promise<void> {
  const query = new URLSearchParams(filter).toString();
  const path = `${apiBasePath()}/metered-records${query ? `?${query}` : ''}`;
  const response = await apiFetch(
    new Request(new URL(path, location.href), { headers: { accept: 'text/csv' } }),
  );
  if (!response.ok) throw new Error(`CSV download failed: HTTP ${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = 'metered-records.csv';
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function RecordsPage() {
  const [filter, setFilter] = useState<Record<string, string>>({});
  const pager = usePager();
  const [csvError, setCsvError] = useState<unknown>(undefined);
  const selects = Boolean(filter.userId || filter.meterId || filter.meterTypeId);
  const page = useLoad(
    async () =>
      !selects
        ? undefined
        : recordList(
            unwrap(
              await api.GET('/metered-records', {
                params: { query: { ...filter, limit: 25, nextToken: pager.token } },
              }),
            ),
          ),
    [filter, pager.token],
  );
  return (
    <>
      <h1>Records</h1>
      <FilterForm
        fields={FILTERS}
        values={filter}
        onApply={(values) => {
          setFilter(nonEmpty(values));
          pager.reset();
        }}
      />
      <p>
        <button
          type="button"
          onClick={() => downloadCsv(filter).then(() => setCsvError(undefined), setCsvError)}
        >
          Download as CSV
        </button>
      </p>
      <ErrorBox error={csvError} />
      <ErrorBox error={page.error} />
      {selects ? null : <p>Give a user, meter id or meter type id to see their records.</p>}
      {page.data ? <RecordsTable records={page.data.meteredRecords} /> : null}
      {pager.controls(page.data?.nextToken)}
    </>
  );
}
