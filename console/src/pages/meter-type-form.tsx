/**
 * Create or edit a meter type: every field, the API's field errors beside their fields, the
 * reset schedule in words with its next five period ends, warnings, and delete.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  AGGREGATIONS,
  DEFAULT_MAX_DISTINCT,
  MAX_MAX_DISTINCT,
  mayRejectByCapacity,
} from '../aggregation.js';
import {
  ApiError,
  api,
  type FieldIssue,
  type MeterType,
  unwrap,
  type Warning,
} from '../api/client.js';
import { ErrorBox, Field, IssueList, StatusNote, TextInput, Warnings } from '../components.js';
import { Time } from '../format.js';
import { nextPeriodEnds, scheduleInWords } from '../schedule-preview.js';
import {
  createBody,
  draftOf,
  EMPTY_DRAFT,
  type MeterTypeDraft,
  type ThresholdDraft,
  updateBody,
} from './meter-type-draft.js';

const SCHEDULE_FIELDS = ['minute', 'hour', 'day', 'month', 'weekday'] as const;
/** The fields the form shows; an issue on any other path is shown above the form. */
const FORM_FIELDS = [
  'name',
  'description',
  'externalRef',
  'category',
  'unit',
  'aggregation',
  'resetSchedule',
  'timezone',
  'activeFrom',
  'activeTo',
  'capacity',
  'capacityPolicy',
  'gracePeriodSeconds',
  'thresholds',
];

function SchedulePreview({ draft }: { draft: MeterTypeDraft }) {
  const { ends, error } = nextPeriodEnds(draft.resetSchedule, draft.timezone, new Date());
  return (
    <div class="preview" aria-live="polite">
      <p>
        <strong>Resets:</strong> {scheduleInWords(draft.resetSchedule)}
      </p>
      {error ? <p class="field-error">{error}</p> : null}
      {ends.length ? (
        <>
          <p>Next period ends in {draft.timezone}:</p>
          <ol class="period-ends">
            {ends.map((end) => (
              <li key={end.toISOString()}>
                <Time iso={end.toISOString()} zone={draft.timezone} />
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </div>
  );
}

function ThresholdRows(props: {
  thresholds: ThresholdDraft[];
  issues: readonly FieldIssue[];
  onChange: (thresholds: ThresholdDraft[]) => void;
}) {
  const set = (index: number, change: Partial<ThresholdDraft>) =>
    props.onChange(props.thresholds.map((t, i) => (i === index ? { ...t, ...change } : t)));
  return (
    <fieldset data-field="thresholds">
      <legend>Thresholds (a partial push when reached)</legend>
      {props.thresholds.map((threshold, index) => (
        <div class="row" key={index}>
          <TextInput
            label={`Threshold ${index + 1} name`}
            field={`thresholds[${index}].name`}
            issues={props.issues}
            value={threshold.name}
            onInput={(name) => set(index, { name })}
          />
          <Field label="Kind" field={`thresholds[${index}].kind`} issues={[]}>
            {(id) => (
              <select
                id={id}
                value={threshold.kind}
                onChange={(e) =>
                  set(index, { kind: (e.target as HTMLSelectElement).value as 'value' | 'percent' })
                }
              >
                <option value="value">absolute value</option>
                <option value="percent">percent of capacity</option>
              </select>
            )}
          </Field>
          <TextInput
            label={threshold.kind === 'percent' ? 'Percent' : 'Value'}
            field={`thresholds[${index}].${threshold.kind}`}
            issues={props.issues}
            value={threshold.amount}
            onInput={(amount) => set(index, { amount })}
          />
          <button
            type="button"
            onClick={() => props.onChange(props.thresholds.filter((_, i) => i !== index))}
          >
            Remove threshold {index + 1}
          </button>
        </div>
      ))}
      <button
        type="button"
        onClick={() =>
          props.onChange([...props.thresholds, { name: '', kind: 'value', amount: '' }])
        }
      >
        Add threshold
      </button>
    </fieldset>
  );
}

interface DraftProps {
  draft: MeterTypeDraft;
  editing: boolean;
  issues: readonly FieldIssue[];
  set: (change: Partial<MeterTypeDraft>) => void;
}

/** Issues of the unique count's own inputs, shown beside them rather than at the select. */
const isUniqueInputIssue = (issue: FieldIssue) =>
  /^aggregation\.(?:field|maxDistinct)(?:$|[.[])/.test(issue.field);

/** The aggregation; for `unique` also the field it counts and its most distinct values per period. */
function AggregationFields({ draft, editing, issues, set }: DraftProps) {
  const fixed = editing ? 'cannot change after creation' : undefined;
  const choose = (aggregation: MeterTypeDraft['aggregation']) =>
    set({
      aggregation,
      // The API refuses `reject` with an average or a unique count: the form never sends it.
      capacityPolicy: mayRejectByCapacity(aggregation) ? draft.capacityPolicy : 'notify',
    });
  return (
    <>
      <Field
        label="Aggregation"
        field="aggregation"
        issues={issues.filter((issue) => !isUniqueInputIssue(issue))}
        hint={fixed}
      >
        {(id, describedBy) => (
          <select
            id={id}
            value={draft.aggregation}
            disabled={editing}
            aria-describedby={describedBy}
            onChange={(e) =>
              choose((e.target as HTMLSelectElement).value as MeterTypeDraft['aggregation'])
            }
          >
            {AGGREGATIONS.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        )}
      </Field>
      {draft.aggregation === 'unique' ? (
        <fieldset data-field="aggregation.unique">
          <legend>Unique count: the distinct values of one record field per period</legend>
          <TextInput
            label="Field"
            field="aggregation.field"
            issues={issues}
            value={draft.uniqueField}
            required
            readOnly={editing}
            hint={
              fixed ?? 'required: a record field name or dotted path, e.g. deviceId or device.id'
            }
            onInput={(uniqueField) => set({ uniqueField })}
          />
          <TextInput
            label="Max distinct values per period"
            field="aggregation.maxDistinct"
            issues={issues}
            value={draft.maxDistinct}
            placeholder={String(DEFAULT_MAX_DISTINCT)}
            readOnly={editing}
            hint={
              fixed ??
              `1 to ${MAX_MAX_DISTINCT.toLocaleString('en')}, default ${DEFAULT_MAX_DISTINCT}; a record bringing a new value beyond it goes to data correction (UNIQUE_LIMIT_EXCEEDED)`
            }
            onInput={(maxDistinct) => set({ maxDistinct })}
          />
        </fieldset>
      ) : null}
    </>
  );
}

/** Why an aggregation cannot refuse records by capacity. */
const NO_REJECT: Partial<Record<MeterTypeDraft['aggregation'], string>> = {
  average: 'an average may fall with the next record',
  unique: 'a unique count is bounded by its max distinct values per period instead',
};

/** notify or reject; reject is not offered for the aggregations the API refuses it with. */
function CapacityPolicyField({ draft, issues, set }: DraftProps) {
  const reject = mayRejectByCapacity(draft.aggregation);
  const hint = reject
    ? undefined
    : `reject is not allowed for ${draft.aggregation}: ${NO_REJECT[draft.aggregation] ?? ''}`;
  return (
    <Field label="Capacity policy" field="capacityPolicy" issues={issues} hint={hint}>
      {(id, describedBy) => (
        <select
          id={id}
          value={draft.capacityPolicy}
          aria-describedby={describedBy}
          onChange={(e) =>
            set({ capacityPolicy: (e.target as HTMLSelectElement).value as 'notify' | 'reject' })
          }
        >
          <option value="notify">notify (partial push, keep counting)</option>
          {reject || draft.capacityPolicy === 'reject' ? (
            <option value="reject">reject (over capacity goes to data correction)</option>
          ) : null}
        </select>
      )}
    </Field>
  );
}

function DraftFields(props: DraftProps) {
  const { draft, issues, set } = props;
  const text = (field: keyof MeterTypeDraft & string, label: string, hint?: string) => (
    <TextInput
      label={label}
      field={field}
      issues={issues}
      hint={hint}
      value={String(draft[field])}
      onInput={(value) => set({ [field]: value })}
    />
  );
  return (
    <>
      <TextInput
        label="Name"
        field="name"
        issues={issues}
        value={draft.name}
        hint={props.editing ? 'cannot change after creation' : 'unique, at most 80 characters'}
        readOnly={props.editing}
        onInput={(name) => set({ name })}
      />
      {text('description', 'Description')}
      {text('externalRef', 'External reference', 'unique; usable instead of the id')}
      {text('category', 'Category', 'guiding rules route to categories; default DEFAULT')}
      {text('unit', 'Unit', 'e.g. minutes, calls')}
      <AggregationFields {...props} />
      <fieldset data-field="resetSchedule">
        <legend>Reset schedule (cron fields)</legend>
        <div class="row">
          {SCHEDULE_FIELDS.map((part) => (
            <TextInput
              key={part}
              label={part}
              field={`resetSchedule.${part}`}
              issues={issues}
              value={draft.resetSchedule[part]}
              onInput={(value) => set({ resetSchedule: { ...draft.resetSchedule, [part]: value } })}
            />
          ))}
        </div>
      </fieldset>
      {text('timezone', 'Time zone', 'IANA name, e.g. Europe/Stockholm')}
      <SchedulePreview draft={draft} />
      {text('activeFrom', 'Active from (ISO time)')}
      {text('activeTo', 'Active to (ISO time)')}
      {text('capacity', 'Capacity per period')}
      <CapacityPolicyField {...props} />
      {text('gracePeriodSeconds', 'Grace period (seconds)', 'late records still count, 0–86400')}
      <ThresholdRows
        thresholds={draft.thresholds}
        issues={issues}
        onChange={(thresholds) => set({ thresholds })}
      />
    </>
  );
}

/** Why a delete was refused, in words a user can act on. */
function deleteRefusal(error: unknown, type: MeterType | undefined): string | undefined {
  if (!(error instanceof ApiError) || error.status !== 409) return undefined;
  const meters = type ? `${type.numberOfMeters} meter(s)` : 'meters';
  return `This meter type still has ${meters}. Delete them first (Meters page), then delete the type. (${error.message})`;
}

export function MeterTypeFormPage({ id }: { id?: string }) {
  const [draft, setDraft] = useState<MeterTypeDraft>(EMPTY_DRAFT);
  const [loaded, setLoaded] = useState<MeterType | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [warnings, setWarnings] = useState<Warning[] | undefined>(undefined);
  const [saved, setSaved] = useState('');
  useEffect(() => {
    if (!id) return;
    api
      .GET('/meter-types/{id}', { params: { path: { id } } })
      .then(unwrap)
      .then((type) => {
        setLoaded(type);
        setDraft(draftOf(type));
      }, setError);
  }, [id]);
  const issues = error instanceof ApiError ? error.issues : [];
  const otherIssues = issues.filter(
    (issue) => !FORM_FIELDS.some((f) => issue.field === f || issue.field.startsWith(f)),
  );
  const currentId = id ?? loaded?.id;
  const save = async (event: Event) => {
    event.preventDefault();
    setSaved('');
    try {
      const result = currentId
        ? unwrap(
            await api.PATCH('/meter-types/{id}', {
              params: { path: { id: currentId } },
              body: updateBody(draft),
            }),
          )
        : unwrap(await api.POST('/meter-types', { body: createBody(draft) }));
      setError(undefined);
      setWarnings(result.warnings);
      setLoaded(result);
      setSaved(currentId ? 'Saved.' : `Created meter type ${result.name}.`);
      if (!currentId) history.replaceState(null, '', `#/meter-types/${result.id}`);
    } catch (caught) {
      setError(caught);
    }
  };
  const remove = async () => {
    if (!currentId || !confirm(`Delete meter type ${draft.name}?`)) return;
    try {
      unwrap(await api.DELETE('/meter-types/{id}', { params: { path: { id: currentId } } }));
      location.hash = '#/meter-types';
    } catch (caught) {
      setError(caught);
    }
  };
  const editing = Boolean(currentId);
  return (
    <>
      <h1>{editing ? `Meter type ${loaded?.name ?? ''}` : 'New meter type'}</h1>
      <StatusNote note={saved} />
      <Warnings warnings={warnings} />
      <p class="error" role="alert" hidden={!deleteRefusal(error, loaded)}>
        {deleteRefusal(error, loaded)}
      </p>
      {deleteRefusal(error, loaded) ? null : <ErrorBox error={error} />}
      <IssueList issues={otherIssues} />
      <form onSubmit={save} aria-label="Meter type" noValidate>
        <DraftFields
          draft={draft}
          editing={editing}
          issues={issues}
          set={(change) => setDraft({ ...draft, ...change })}
        />
        <div class="actions">
          <button type="submit">{editing ? 'Save' : 'Create meter type'}</button>
          {editing ? (
            <button type="button" class="danger" onClick={remove}>
              Delete meter type
            </button>
          ) : null}
        </div>
      </form>
    </>
  );
}
