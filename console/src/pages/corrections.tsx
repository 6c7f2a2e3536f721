/**
 * Data corrections: list by reason, user and time; each record decoded; reprocess or delete
 * one, or every one that matches the filter (bounded per call: the API says what remains).
 */
import { useState } from 'preact/hooks';
import { api, type DataCorrection, isMissingRoute, type Schemas, unwrap } from '../api/client.js';
import {
  ErrorBox,
  FilterForm,
  filterFromHash,
  nonEmpty,
  StatusNote,
  useLoad,
  usePager,
} from '../components.js';
import { CORRECTION_REASONS } from '../correction-reasons.js';
import { decodeRecord, Time } from '../format.js';

type CorrectionFilter = Schemas['DataCorrectionBulkFilter'];

/** Calls of one bulk action at most (each acts on up to 100 entries). */
const MAX_BULK_CALLS = 50;

const FILTERS = [
  { name: 'reason', label: 'Reason', options: CORRECTION_REASONS },
  { name: 'userId', label: 'User' },
  { name: 'from', label: 'From (ISO time)' },
  { name: 'to', label: 'To (ISO time)' },
];

function RecordBytes({ data }: { data: string }) {
  const decoded = decodeRecord(data);
  return (
    <details>
      <summary>Record ({decoded.kind === 'hex' ? 'bytes, not UTF-8: hex' : decoded.kind})</summary>
      <pre>{decoded.text}</pre>
    </details>
  );
}

function CorrectionRow(props: { correction: DataCorrection; onChanged: (note: string) => void }) {
  const { correction } = props;
  const [error, setError] = useState<unknown>(undefined);
  const act = async (action: 'reprocess' | 'delete') => {
    try {
      const path = { params: { path: { id: correction.id } } };
      if (action === 'reprocess') unwrap(await api.POST('/corrections/{id}/reprocess', path));
      else unwrap(await api.DELETE('/corrections/{id}', path));
      props.onChanged(`${action === 'reprocess' ? 'Reprocessed' : 'Deleted'} ${correction.id}.`);
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <li class="correction" data-correction-id={correction.id}>
      <p>
        <strong>{correction.reason}</strong>: {correction.message}
      </p>
      <p class="muted">
        {correction.userId ? `user ${correction.userId}, ` : ''}stream {correction.streamName},
        received <Time iso={correction.receivedAt} />, corrected{' '}
        <Time iso={correction.correctedAt} />
        {correction.reprocessedAt ? (
          <>
            , reprocessed <Time iso={correction.reprocessedAt} />
          </>
        ) : null}
      </p>
      <RecordBytes data={correction.data} />
      <div class="actions">
        <button
          type="button"
          onClick={() => act('reprocess')}
          aria-label={`Reprocess correction ${correction.id}`}
          disabled={Boolean(correction.reprocessedAt)}
        >
          Reprocess
        </button>
        <button
          type="button"
          class="danger"
          onClick={() => act('delete')}
          aria-label={`Delete correction ${correction.id}`}
        >
          Delete
        </button>
      </div>
      <ErrorBox error={error} />
    </li>
  );
}

/** Reprocesses every open entry that matches, call after call while the API says more remain. */
async function reprocessAll(filter: CorrectionFilter): Promise<string> {
  let reprocessed = 0;
  const failed: string[] = [];
  for (let call = 0; call < MAX_BULK_CALLS; call += 1) {
    const result = unwrap(await api.POST('/corrections/reprocess', { body: filter }));
    reprocessed += result.reprocessed;
    failed.push(...result.failed.map((f) => `${f.id}: ${f.code} ${f.message}`));
    // Failed entries stay open and match again: stop when a call re-sends nothing.
    if (!result.remaining || result.reprocessed === 0) {
      const more = result.remaining ? ' Some still match: try again later.' : '';
      return `Reprocessed ${reprocessed}.${failed.length ? ` Failed: ${failed.join('; ')}.` : ''}${more}`;
    }
  }
  return `Reprocessed ${reprocessed}. Some still match: run it again.`;
}

/** Deletes every entry that matches, call after call while the API says more remain. */
async function deleteAll(filter: CorrectionFilter): Promise<string> {
  let deleted = 0;
  for (let call = 0; call < MAX_BULK_CALLS; call += 1) {
    const result = unwrap(await api.POST('/corrections/delete', { body: filter }));
    deleted += result.deleted;
    if (!result.remaining) return `Deleted ${deleted}.`;
  }
  return `Deleted ${deleted}. Some still match: run it again.`;
}

/** Reprocess or delete everything that matches (no filter: `all`); a missing bulk route says so. */
async function bulk(action: 'reprocess' | 'delete', filter: CorrectionFilter): Promise<string> {
  const body = Object.keys(filter).length ? filter : { all: true as const };
  try {
    return action === 'reprocess' ? await reprocessAll(body) : await deleteAll(body);
  } catch (error) {
    if (isMissingRoute(error)) return 'This API does not offer bulk actions yet; act on each one.';
    throw error;
  }
}

export function CorrectionsPage() {
  const [filter, setFilter] = useState<Record<string, string>>(filterFromHash);
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const pager = usePager();
  const page = useLoad(async () => {
    // Filters beyond `reason` (user, time) are served by newer APIs; older ones ignore them.
    const query: CorrectionFilter & { limit: number; nextToken?: string } = {
      ...(filter as CorrectionFilter),
      limit: 25,
      nextToken: pager.token,
    };
    return unwrap(await api.GET('/corrections', { params: { query } }));
  }, [filter, pager.token]);
  const changed = (message: string) => {
    setNote(message);
    void page.reload();
  };
  const runBulk = (action: 'reprocess' | 'delete') => {
    const what = Object.keys(filter).length ? 'every correction that matches' : 'EVERY correction';
    if (action === 'delete' && !confirm(`Delete ${what}? The records are gone for good.`)) return;
    void bulk(action, filter as CorrectionFilter).then(changed, setError);
  };
  return (
    <>
      <h1>Data corrections</h1>
      <FilterForm
        fields={FILTERS}
        values={filter}
        onApply={(values) => {
          setFilter(nonEmpty(values));
          pager.reset();
        }}
      />
      <div class="actions">
        <button type="button" onClick={() => runBulk('reprocess')}>
          Reprocess all that match
        </button>
        <button type="button" class="danger" onClick={() => runBulk('delete')}>
          Delete all that match
        </button>
      </div>
      <StatusNote note={note} />
      <ErrorBox error={error} />
      <ErrorBox error={page.error} />
      {page.data && page.data.corrections.length === 0 ? <p>No data corrections.</p> : null}
      <ul class="plain">
        {page.data?.corrections.map((correction) => (
          <CorrectionRow key={correction.id} correction={correction} onChanged={changed} />
        ))}
      </ul>
      {pager.controls(page.data?.nextToken)}
    </>
  );
}
