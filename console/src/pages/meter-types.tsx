/** Meter types: the list, filtered by name and category, paged. */
import { useState } from 'preact/hooks';
import { aggregationInWords } from '../aggregation.js';
import { api, unwrap } from '../api/client.js';
import { ErrorBox, FilterForm, nonEmpty, useLoad, usePager } from '../components.js';
import { scheduleInWords } from '../schedule-preview.js';

const FILTERS = [
  { name: 'name', label: 'Name' },
  { name: 'category', label: 'Category' },
];

export function MeterTypesPage() {
  const [filter, setFilter] = useState<Record<string, string>>({});
  const pager = usePager();
  const page = useLoad(
    async () =>
      unwrap(
        await api.GET('/meter-types', {
          params: { query: { ...filter, limit: 25, nextToken: pager.token } },
        }),
      ),
    [filter, pager.token],
  );
  return (
    <>
      <h1>Meter types</h1>
      <p>
        <a class="button" href="#/meter-types/new">
          New meter type
        </a>
      </p>
      <FilterForm
        fields={FILTERS}
        values={filter}
        onApply={(values) => {
          setFilter(nonEmpty(values));
          pager.reset();
        }}
      />
      <ErrorBox error={page.error} />
      {page.data && page.data.meterTypes.length === 0 ? <p>No meter types.</p> : null}
      {page.data?.meterTypes.length ? (
        <table>
          <caption class="visually-hidden">Meter types</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Category</th>
              <th scope="col">Unit</th>
              <th scope="col">Aggregation</th>
              <th scope="col">Resets</th>
              <th scope="col">Time zone</th>
              <th scope="col">Meters</th>
            </tr>
          </thead>
          <tbody>
            {page.data.meterTypes.map((type) => (
              <tr key={type.id}>
                <td>
                  <a href={`#/meter-types/${type.id}`}>{type.name}</a>
                </td>
                <td>{type.category}</td>
                <td>{type.unit}</td>
                <td>{aggregationInWords(type.aggregation)}</td>
                <td>{scheduleInWords(type.resetSchedule)}</td>
                <td>{type.timezone}</td>
                <td class="num">
                  <a href={`#/meters?meterTypeId=${type.id}`}>{type.numberOfMeters}</a>
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
