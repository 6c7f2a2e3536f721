/** Meters (the Meter Inspector's list): filter by user, meter type and meter key; create one. */
import { useState } from 'preact/hooks';
import { ApiError, api, unwrap } from '../api/client.js';
import {
  ErrorBox,
  FilterForm,
  filterFromHash,
  nonEmpty,
  TextInput,
  useLoad,
  usePager,
} from '../components.js';
import { showValue, Time } from '../format.js';

const FILTERS = [
  { name: 'userId', label: 'User' },
  { name: 'meterTypeId', label: 'Meter type id' },
  { name: 'meterKey', label: 'Meter key' },
];

function CreateMeter({ onCreated }: { onCreated: () => void }) {
  const [meterKey, setMeterKey] = useState('');
  const [meterType, setMeterType] = useState('');
  const [userId, setUserId] = useState('');
  const [deleteOnReset, setDeleteOnReset] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const issues = error instanceof ApiError ? error.issues : [];
  const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(meterType);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      const type = byId ? { meterTypeId: meterType } : { meterTypeExternalRef: meterType };
      const meter = unwrap(
        await api.POST('/meters', {
          body: { meterKey, userId, deleteOnReset, customFields: {}, ...type },
        }),
      );
      setError(undefined);
      onCreated();
      location.hash = `#/meters/${meter.id}`;
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <details>
      <summary>New meter</summary>
      <form onSubmit={submit} aria-label="New meter" noValidate>
        <ErrorBox error={error} />
        <TextInput
          label="Meter key"
          field="meterKey"
          issues={issues}
          value={meterKey}
          onInput={setMeterKey}
          hint="a stream's meter key"
        />
        <TextInput
          label="Meter type (id or external reference)"
          field={byId ? 'meterTypeId' : 'meterTypeExternalRef'}
          issues={issues}
          value={meterType}
          onInput={setMeterType}
        />
        <TextInput label="User" field="userId" issues={issues} value={userId} onInput={setUserId} />
        <label class="check">
          <input
            type="checkbox"
            checked={deleteOnReset}
            onChange={(e) => setDeleteOnReset((e.target as HTMLInputElement).checked)}
          />
          Delete on reset (after its next final record)
        </label>
        <button type="submit">Create meter</button>
      </form>
    </details>
  );
}

export function MetersPage() {
  const [filter, setFilter] = useState<Record<string, string>>(filterFromHash);
  const pager = usePager();
  const page = useLoad(
    async () =>
      unwrap(
        await api.GET('/meters', {
          params: { query: { ...filter, limit: 25, nextToken: pager.token } },
        }),
      ),
    [filter, pager.token],
    5_000,
  );
  return (
    <>
      <h1>Meters</h1>
      <CreateMeter onCreated={() => void page.reload()} />
      <FilterForm
        fields={FILTERS}
        values={filter}
        onApply={(values) => {
          setFilter(nonEmpty(values));
          pager.reset();
        }}
      />
      <ErrorBox error={page.error} />
      {page.data && page.data.meters.length === 0 ? <p>No meters.</p> : null}
      {page.data?.meters.length ? (
        <table>
          <caption class="visually-hidden">Meters</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Meter type</th>
              <th scope="col">Meter key</th>
              <th scope="col">Value</th>
              <th scope="col">Period end</th>
            </tr>
          </thead>
          <tbody>
            {page.data.meters.map((meter) => (
              <tr key={meter.id}>
                <td>
                  <a href={`#/meters/${meter.id}`}>{meter.userId}</a>
                </td>
                <td>{meter.meterTypeName}</td>
                <td>{meter.meterKey}</td>
                <td class="num">
                  {showValue(meter.value)} {meter.unit}
                </td>
                <td>
                  <Time iso={meter.periodEnd} zone={meter.timezone} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {pager.controls(page.data?.nextToken)}
    </>
  );
}
