/** The dry run: paste a record, see which rule, category and meters it reaches. */
import { useState } from 'preact/hooks';
import { ApiError, api, type Schemas, unwrap } from '../api/client.js';
import { ErrorBox, IssueList, useId, Warnings } from '../components.js';
import { Time } from '../format.js';

type DryRunResult = Schemas['StreamDryRunResult'];

function Results({ result }: { result: DryRunResult }) {
  return (
    <div role="status" class="dry-run-results">
      <p>Tried the {result.configuration} configuration.</p>
      <Warnings warnings={result.warnings} />
      {result.results.map((r) => (
        <div key={r.index} class="card" data-outcome={r.outcome}>
          <h3>
            Record {r.index + 1}: {r.outcome}
          </h3>
          {r.rule ? (
            <p>
              Rule <strong>{r.rule}</strong>, category <strong>{r.category}</strong>
            </p>
          ) : null}
          {r.correction ? (
            <p>
              Data correction <strong>{r.correction.reason}</strong>: {r.correction.message}
            </p>
          ) : null}
          {r.meters.length ? (
            <ul>
              {r.meters.map((meter) => (
                <li key={meter.id}>
                  <a href={`#/meters/${meter.id}`}>{meter.meterTypeName}</a> ({meter.category}),{' '}
                  {meter.placement} period ending <Time iso={meter.periodEnd} />
                </li>
              ))}
            </ul>
          ) : null}
          {r.rules ? (
            <p class="muted">
              {r.rules
                .map(
                  (rule) =>
                    `${rule.name}: ${rule.matches ? 'matches' : 'no match'}${rule.matches && !rule.hasMeter ? ', no meter' : ''}`,
                )
                .join('; ')}
            </p>
          ) : null}
        </div>
      ))}
    </div>
  );
}

export function DryRun({
  name,
  editedConfiguration,
}: {
  name: string;
  editedConfiguration: string;
}) {
  const [records, setRecords] = useState('{"userId": "alice", "value": 1}');
  const [useEdited, setUseEdited] = useState(false);
  const [result, setResult] = useState<DryRunResult | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const id = useId('dry-run');
  const run = async (event: Event) => {
    event.preventDefault();
    try {
      const body: Schemas['StreamDryRun'] = { records: JSON.parse(records) };
      if (useEdited) body.configuration = JSON.parse(editedConfiguration);
      setResult(
        unwrap(await api.POST('/streams/{name}/dry-run', { params: { path: { name } }, body })),
      );
      setError(undefined);
    } catch (caught) {
      setResult(undefined);
      setError(caught instanceof SyntaxError ? new Error(`Not JSON: ${caught.message}`) : caught);
    }
  };
  const issues = error instanceof ApiError ? error.issues : [];
  return (
    <form onSubmit={run} aria-label="Dry run">
      <h2>Dry run</h2>
      <label for={id}>Record (JSON object, or an array of up to 100)</label>
      <textarea
        id={id}
        rows={5}
        spellcheck={false}
        value={records}
        onInput={(e) => setRecords((e.target as HTMLTextAreaElement).value)}
      />
      <label class="check">
        <input
          type="checkbox"
          checked={useEdited}
          onChange={(e) => setUseEdited((e.target as HTMLInputElement).checked)}
        />
        Try the edited configuration instead of the deployed one
      </label>
      <button type="submit">Run dry run</button>
      <ErrorBox error={error} />
      <IssueList issues={issues} />
      {result ? <Results result={result} /> : null}
    </form>
  );
}
