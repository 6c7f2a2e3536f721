/**
 * One meter (the Meter Inspector): what it inherited, its current period, value, groups,
 * thresholds reached and usage metadata, refreshed every few seconds; its past records with a
 * chart of value per period; deleteOnReset and delete.
 */
import { useState } from 'preact/hooks';
import { aggregationInWords } from '../aggregation.js';
import { api, type Meter, recordList, unwrap } from '../api/client.js';
import { ErrorBox, useLoad, usePager } from '../components.js';
import { Detail, showValue, Time } from '../format.js';
import { scheduleInWords } from '../schedule-preview.js';
import { RecordsTable } from './records.js';
import { ValueChart } from './value-chart.js';

const POLL_MS = 2_000;

function Inherited({ meter }: { meter: Meter }) {
  const zone = meter.timezone;
  return (
    <dl class="details">
      <Detail term="Meter type">
        <a href={`#/meter-types/${meter.meterTypeId}`}>{meter.meterTypeName}</a> ({meter.category})
      </Detail>
      <Detail term="Unit">{meter.unit}</Detail>
      <Detail term="Aggregation">{aggregationInWords(meter.aggregation)}</Detail>
      <Detail term="Resets">{scheduleInWords(meter.resetSchedule)}</Detail>
      <Detail term="Time zone">{zone}</Detail>
      <Detail term="Active window">
        <Time iso={meter.activeFrom} zone={zone} /> to <Time iso={meter.activeTo} zone={zone} />
      </Detail>
      <Detail term="Capacity">
        {meter.capacity === undefined
          ? 'none'
          : `${showValue(meter.capacity)} (${meter.capacityPolicy})`}
      </Detail>
      <Detail term="Thresholds">
        {meter.thresholds.length
          ? meter.thresholds
              .map((t) => ('percent' in t ? `${t.name}: ${t.percent}%` : `${t.name}: ${t.value}`))
              .join(', ')
          : 'none'}
      </Detail>
      <Detail term="Grace period">{meter.gracePeriodSeconds} s</Detail>
    </dl>
  );
}

function Current({ meter }: { meter: Meter }) {
  const zone = meter.timezone;
  const meta = meter.meterMetaData;
  return (
    <dl class="details">
      <Detail term="Value">
        <output class="meter-value" aria-live="polite">
          {showValue(meter.value)}
        </output>{' '}
        {meter.unit}
        {meter.aggregation.type === 'unique' ? (
          <span class="muted"> (distinct values of {meter.aggregation.field})</span>
        ) : null}
      </Detail>
      <Detail term="Period start">
        <Time iso={meter.periodStart} zone={zone} />
      </Detail>
      <Detail term="Period end">
        <Time iso={meter.periodEnd} zone={zone} />
      </Detail>
      <Detail term="Record count">{meta.recordCount}</Detail>
      <Detail term="First usage">
        <Time iso={meta.firstUsageAt} zone={zone} />
      </Detail>
      <Detail term="Last usage">
        <Time iso={meta.lastUsageAt} zone={zone} />
      </Detail>
      <Detail term="Late records">{meta.lateRecords}</Detail>
      <Detail term="Thresholds reached">{meter.thresholdsReached.join(', ') || 'none'}</Detail>
      <Detail term="Groups">
        {meter.groups.length ? (
          <ul class="plain">
            {meter.groups.map((group) => (
              <li key={JSON.stringify(group.fields)}>
                <code>{JSON.stringify(group.fields)}</code>: {showValue(group.value)} ({group.count}{' '}
                records)
              </li>
            ))}
          </ul>
        ) : (
          'none'
        )}
      </Detail>
    </dl>
  );
}

function Settings({ meter, onChanged }: { meter: Meter; onChanged: () => void }) {
  const [error, setError] = useState<unknown>(undefined);
  const path = { params: { path: { id: meter.id } } };
  const toggle = async (deleteOnReset: boolean) => {
    try {
      unwrap(await api.PATCH('/meters/{id}', { ...path, body: { deleteOnReset } }));
      setError(undefined);
      onChanged();
    } catch (caught) {
      setError(caught);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete the meter of ${meter.userId}?`)) return;
    try {
      unwrap(await api.DELETE('/meters/{id}', path));
      location.hash = '#/meters';
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <div class="actions">
      <label class="check">
        <input
          type="checkbox"
          checked={meter.deleteOnReset}
          onChange={(e) => toggle((e.target as HTMLInputElement).checked)}
        />
        Delete on reset (after its next final record)
      </label>
      <button type="button" class="danger" onClick={remove}>
        Delete meter
      </button>
      <ErrorBox error={error} />
    </div>
  );
}

export function MeterPage({ id }: { id: string }) {
  const meter = useLoad(
    async () => unwrap(await api.GET('/meters/{id}', { params: { path: { id } } })),
    [id],
    POLL_MS,
  );
  const pager = usePager();
  const records = useLoad(
    async () =>
      recordList(
        unwrap(
          await api.GET('/meters/{id}/records', {
            params: { path: { id }, query: { limit: 50, nextToken: pager.token } },
          }),
        ),
      ),
    [id, pager.token],
    POLL_MS * 2,
  );
  const data = meter.data;
  return (
    <>
      <h1>Meter {data ? `of ${data.userId}: ${data.meterTypeName}` : id}</h1>
      <ErrorBox error={meter.error} />
      {data ? (
        <>
          <p class="muted">
            Meter key {data.meterKey}, id <code>{data.id}</code>, created{' '}
            <Time iso={data.createdAt} zone={data.timezone} />, refreshed every {POLL_MS / 1000} s
          </p>
          <Settings meter={data} onChanged={() => void meter.reload()} />
          <section aria-labelledby="current-h">
            <h2 id="current-h">Current period</h2>
            <Current meter={data} />
          </section>
          <section aria-labelledby="inherited-h">
            <h2 id="inherited-h">Inherited from its meter type</h2>
            <Inherited meter={data} />
          </section>
        </>
      ) : null}
      <section aria-labelledby="records-h">
        <h2 id="records-h">Past records</h2>
        <ErrorBox error={records.error} />
        {records.data ? (
          <>
            <ValueChart records={records.data.meteredRecords} />
            <RecordsTable records={records.data.meteredRecords} />
            {pager.controls(records.data.nextToken)}
          </>
        ) : null}
      </section>
    </>
  );
}
