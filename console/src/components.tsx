/** Small building blocks every page uses: loading, errors, labelled fields, paging. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type FieldIssue, type Warning } from './api/client.js';

/** Loads with `load` whenever `deps` change (and every `pollMs` when given). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(async () => {
    try {
      setData(await loadRef.current());
      setError(undefined);
    } catch (caught) {
      setError(caught);
    }
  }, []);
  useEffect(() => {
    void reload();
    if (!pollMs) return undefined;
    const timer = setInterval(() => void reload(), pollMs);
    return () => clearInterval(timer);
  }, deps);
  return { data, error, reload };
}

/** What went wrong, in the API's words. */
/** A short confirmation of what an action did ("Saved."), announced politely; nothing when empty. */
export function StatusNote({ note }: { note: string }) {
  if (!note) return null;
  return (
    <p role="status" class="note">
      {note}
    </p>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (error === undefined) return null;
  const message =
    error instanceof ApiError
      ? `${error.status}: ${error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

/** Warnings the API returned beside a success (e.g. an unrouted category). */
export function Warnings({ warnings }: { warnings: readonly Warning[] | undefined }) {
  if (!warnings?.length) return null;
  return (
    <div class="warnings" role="status">
      <p>Warnings:</p>
      <ul>
        {warnings.map((warning) => (
          <li key={warning.code}>
            <strong>{warning.code}</strong>: {warning.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

let fieldIds = 0;
/** A stable id for a label/control pair. */
export function useId(prefix: string): string {
  const ref = useRef<string>('');
  if (!ref.current) ref.current = `${prefix}-${++fieldIds}`;
  return ref.current;
}

/** The issue messages of the API for one field path, e.g. `resetSchedule.minute`. */
export function issuesFor(issues: readonly FieldIssue[], field: string): string[] {
  return issues
    .filter(
      (issue) =>
        issue.field === field ||
        issue.field.startsWith(`${field}.`) ||
        issue.field.startsWith(`${field}[`),
    )
    .map((issue) => issue.message);
}

/** A labelled control with the API's field errors beside it. */
export function Field(props: {
  label: string;
  field: string;
  issues: readonly FieldIssue[];
  hint?: ComponentChildren;
  children: (id: string, describedBy: string | undefined) => ComponentChildren;
}) {
  const id = useId(`f-${props.field.replace(/[^a-zA-Z0-9]/g, '-')}`);
  const errors = issuesFor(props.issues, props.field);
  const errorId = errors.length ? `${id}-error` : undefined;
  return (
    <div class={errors.length ? 'field invalid' : 'field'} data-field={props.field}>
      <label for={id}>{props.label}</label>
      {props.children(id, errorId)}
      {props.hint ? <small>{props.hint}</small> : null}
      {errors.length ? (
        <span class="field-error" id={errorId}>
          {errors.join('; ')}
        </span>
      ) : null}
    </div>
  );
}

/** A text input bound to a string state. */
export function TextInput(props: {
  label: string;
  field: string;
  issues: readonly FieldIssue[];
  value: string;
  onInput: (value: string) => void;
  placeholder?: string;
  hint?: ComponentChildren;
  readOnly?: boolean;
  required?: boolean;
}) {
  return (
    <Field label={props.label} field={props.field} issues={props.issues} hint={props.hint}>
      {(id, describedBy) => (
        <input
          id={id}
          type="text"
          value={props.value}
          placeholder={props.placeholder}
          readOnly={props.readOnly}
          required={props.required}
          aria-invalid={describedBy ? 'true' : undefined}
          aria-describedby={describedBy}
          onInput={(event) => props.onInput((event.target as HTMLInputElement).value)}
        />
      )}
    </Field>
  );
}

/** Pages a token-paged list: the tokens seen so far make "Previous" possible. */
export function usePager() {
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const current = tokens[tokens.length - 1];
  return {
    token: current,
    reset: () => setTokens([undefined]),
    controls: (nextToken: string | undefined) => (
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          disabled={tokens.length < 2}
          onClick={() => setTokens(tokens.slice(0, -1))}
        >
          Previous page
        </button>
        <span>Page {tokens.length}</span>
        <button
          type="button"
          disabled={!nextToken}
          onClick={() => setTokens([...tokens, nextToken])}
        >
          Next page
        </button>
      </nav>
    ),
  };
}

/** A filter bar: labelled inputs that apply on submit. */
export function FilterForm(props: {
  fields: { name: string; label: string; options?: readonly string[] }[];
  values: Record<string, string>;
  onApply: (values: Record<string, string>) => void;
}) {
  const [draft, setDraft] = useState(props.values);
  return (
    <form
      class="filters"
      aria-label="Filter"
      onSubmit={(event) => {
        event.preventDefault();
        props.onApply(draft);
      }}
    >
      {props.fields.map((field) => (
        <label key={field.name} for={`filter-${field.name}`}>
          {field.label}
          {field.options ? (
            <select
              id={`filter-${field.name}`}
              name={field.name}
              value={draft[field.name] ?? ''}
              onChange={(event) =>
                setDraft({ ...draft, [field.name]: (event.target as HTMLSelectElement).value })
              }
            >
              <option value="">any</option>
              {field.options.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          ) : (
            <input
              id={`filter-${field.name}`}
              name={field.name}
              type="text"
              value={draft[field.name] ?? ''}
              onInput={(event) =>
                setDraft({ ...draft, [field.name]: (event.target as HTMLInputElement).value })
              }
            />
          )}
        </label>
      ))}
      <button type="submit">Apply filter</button>
    </form>
  );
}

/** The filter a link put in the hash's query, e.g. `#/corrections?reason=NO_METER`. */
export function filterFromHash(): Record<string, string> {
  return nonEmpty(Object.fromEntries(new URLSearchParams(location.hash.split('?')[1] ?? '')));
}

/** The API's field issues as a list, for forms that have no field of their own for each. */
export function IssueList({ issues }: { issues: readonly FieldIssue[] }) {
  if (!issues.length) return null;
  return (
    <ul class="error">
      {issues.map((issue) => (
        <li key={issue.field}>
          <code>{issue.field || 'body'}</code>: {issue.message}
        </li>
      ))}
    </ul>
  );
}

/** Drops empty strings, so a filter sends only what was filled in. */
export function nonEmpty(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value.trim() !== ''));
}
