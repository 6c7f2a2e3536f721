/**
 * Streams: each stream's fields and guiding rules, a JSON editor for its configuration (saved
 * with If-Match where the API offers updates), its versions, and the dry run.
 */
import { useState } from 'preact/hooks';
import { ApiError, api, isMissingRoute, type Stream, unwrap, type Warning } from '../api/client.js';
import { ErrorBox, IssueList, StatusNote, useId, useLoad, Warnings } from '../components.js';
import { Time } from '../format.js';
import { DryRun } from './stream-dry-run.js';

/** Fields of the stream view that newer APIs add (issue 13). */
type Versioned = Stream & { version?: number; updatedAt?: string; kinesisStream?: string };

function conditionText(rule: Stream['guidingRules'][number]): string {
  if (rule.conditions.length === 0) return 'always';
  return rule.conditions
    .map((c) => `${c.field} ${c.op}${c.op === 'exists' ? '' : ` ${JSON.stringify(c.value)}`}`)
    .join(` ${rule.operator} `);
}

export function RulesTable({ stream }: { stream: Stream }) {
  return (
    <table>
      <caption>Guiding rules of {stream.name}, evaluated in order</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Rule</th>
          <th scope="col">When</th>
          <th scope="col">Category</th>
          <th scope="col">Group by</th>
        </tr>
      </thead>
      <tbody>
        {stream.guidingRules.map((rule, index) => (
          <tr key={rule.name}>
            <td>{index + 1}</td>
            <td>{rule.name}</td>
            <td>
              <code>{conditionText(rule)}</code>
            </td>
            <td>{rule.category}</td>
            <td>{rule.groupBy.join(', ') || '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StreamsPage() {
  const list = useLoad(async () => unwrap(await api.GET('/streams')), []);
  return (
    <>
      <h1>Streams</h1>
      <ErrorBox error={list.error} />
      <ul class="plain">
        {list.data?.streams.map((stream) => (
          <li key={stream.name} class="card">
            <h2>
              <a href={`#/streams/${encodeURIComponent(stream.name)}`}>{stream.name}</a>
            </h2>
            <p>
              Meter key <code>{stream.meterKey}</code>, {stream.shardCount} shard(s).{' '}
              {stream.description}
            </p>
            <RulesTable stream={stream} />
          </li>
        ))}
      </ul>
    </>
  );
}

function Versions({ name }: { name: string }) {
  const versions = useLoad(async () => {
    try {
      return unwrap(await api.GET('/streams/{name}/versions', { params: { path: { name } } }));
    } catch (error) {
      if (isMissingRoute(error)) return undefined;
      throw error;
    }
  }, [name]);
  if (!versions.data) return <ErrorBox error={versions.error} />;
  return (
    <section aria-labelledby="versions-h">
      <h2 id="versions-h">Versions</h2>
      <ol reversed>
        {versions.data.versions.map((v) => (
          <li key={v.version}>
            version {v.version}, <Time iso={v.updatedAt} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function Editor(props: { stream: Versioned; onSaved: (stream: Versioned) => void }) {
  const [text, setText] = useState(() => JSON.stringify(props.stream, null, 2));
  const [error, setError] = useState<unknown>(undefined);
  const [warnings, setWarnings] = useState<Warning[] | undefined>(undefined);
  const [note, setNote] = useState('');
  const id = useId('stream-json');
  const save = async () => {
    setNote('');
    let configuration: Stream;
    try {
      configuration = JSON.parse(text) as Stream;
    } catch (caught) {
      setError(new Error(`Not JSON: ${String(caught)}`));
      return;
    }
    const headers =
      props.stream.version === undefined ? {} : { 'If-Match': `"${props.stream.version}"` };
    try {
      const saved = unwrap(
        await api.PUT('/streams/{name}', {
          params: { path: { name: props.stream.name }, header: headers },
          body: configuration,
        }),
      );
      setError(undefined);
      setWarnings(saved.warnings);
      setNote('Saved.');
      props.onSaved(saved);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 412)
        setError(
          new Error(
            'Someone changed this stream meanwhile: reload it, then apply your change again.',
          ),
        );
      else if (isMissingRoute(caught) || (caught instanceof ApiError && caught.status === 403))
        setError(
          new Error(
            'This API cannot update streams; the dry run below can still try the edited configuration.',
          ),
        );
      else setError(caught);
    }
  };
  const issues = error instanceof ApiError ? error.issues : [];
  return (
    <section aria-labelledby="editor-h">
      <h2 id="editor-h">Configuration</h2>
      <label for={id}>Configuration of {props.stream.name} (JSON)</label>
      <textarea
        id={id}
        rows={18}
        spellcheck={false}
        value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
      />
      <div class="actions">
        <button type="button" onClick={save}>
          Save configuration
        </button>
      </div>
      <StatusNote note={note} />
      <Warnings warnings={warnings} />
      <ErrorBox error={error} />
      <IssueList issues={issues} />
      <DryRun name={props.stream.name} editedConfiguration={text} />
    </section>
  );
}

export function StreamPage({ name }: { name: string }) {
  const stream = useLoad(
    async () => unwrap(await api.GET('/streams/{name}', { params: { path: { name } } })),
    [name],
  );
  const data = stream.data as Versioned | undefined;
  return (
    <>
      <h1>Stream {name}</h1>
      <ErrorBox error={stream.error} />
      {data ? (
        <>
          <p class="muted">
            Meter key <code>{data.meterKey}</code>
            {data.version === undefined ? '' : `, version ${data.version}`}
            {data.updatedAt ? (
              <>
                , updated <Time iso={data.updatedAt} />
              </>
            ) : null}
            {data.kinesisStream ? `, Kinesis stream ${data.kinesisStream}` : ''}
          </p>
          <h2>Fields</h2>
          <dl class="details">
            {Object.entries(data.fields).map(([role, field]) => (
              <>
                <dt key={`${role}-t`}>{role}</dt>
                <dd key={`${role}-d`}>
                  <code>{field}</code>
                </dd>
              </>
            ))}
          </dl>
          <RulesTable stream={data} />
          <Editor key={data.version ?? 0} stream={data} onSaved={() => void stream.reload()} />
          <Versions key={data.version ?? 0} name={name} />
        </>
      ) : null}
    </>
  );
}
