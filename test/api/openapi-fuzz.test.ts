/**
 * Generated requests, per operation of the OpenAPI document: bodies, query strings and path
 * parameters built from the document's own schemas (test/support/schema-arbitrary.ts). A valid
 * request is accepted (2xx), or refused with a documented 4xx that the schema cannot express
 * (404 for an id that does not exist, 409, a cross-field rule); an invalid one gets a documented
 * 4xx. Never a 5xx. Every answer also passes the contract check (apiUnderTest holds it to the
 * document). `FUZZ_RUNS` sets the cases per operation (`npm run test:fuzz` runs many more).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_BASE_PATH } from '../../shared/http/route-specs.js';
import { apiUnderTest, meterTypeBody } from '../support/api.js';
import { openApiDocument } from '../support/contract.js';
import { invalidObject, valid } from '../support/schema-arbitrary.js';

type Json = any;
type Api = Awaited<ReturnType<typeof apiUnderTest>>;

const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const TIMEOUT = Math.max(60_000, RUNS * 4_000);

/**
 * What a 400 to a schema-valid request may be about: the rules the document states in words
 * because JSON Schema cannot (cross-field rules, a schedule's ranges, storable numbers).
 */
const RULES_IN_WORDS = [
  /must be after activeFrom/,
  /needs the meter type to have a capacity/,
  /duplicate threshold name/,
  /reversed|never fire|can never|step "|must be a whole number from|is only allowed in day|out of range|between \d+ and \d+/i,
  /at least 1e-100 in magnitude/,
  /bytes as JSON|nested deeper/,
  /IANA time zone/,
  /names another stream|must be the stream's own/,
  /none of userId, meterId, meterTypeId|give userId, meterId or meterTypeId|one of userId/i,
  /must not be before from/,
  /duplicate rule name/,
  /without empty or reserved parts|has a key that is not allowed/,
  /is required for \w+|must be absent for exists|must be (string|number) for \w+|must be an array of \w+ values for in|must have the type the condition names/,
  /is not a token this API returned/,
  /must be after from/,
  /must not be given with a filter/,
  /cannot change \(it is /,
  /an average cannot refuse records by capacity/,
  /is only for unique|a unique count cannot refuse records by capacity/,
  /streams \(.*\): send to POST \/streams\/\{name\}\/records/,
];

const operations: [string, string, Json][] = Object.entries<Json>(openApiDocument.paths).flatMap(
  ([path, item]) =>
    Object.entries<Json>(item)
      .filter(([method]) => method !== 'head')
      .map(([method, operation]): [string, string, Json] => [
        method.toUpperCase(),
        path,
        operation,
      ]),
);

/** Path parameters from their schemas, or an id that exists (in any case). */
function pathArbitrary(
  path: string,
  operation: Json,
  known: Record<string, string[]>,
): fc.Arbitrary<string> {
  const names = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name ?? '');
  const values = names.map((name) => {
    const parameter = (operation.parameters ?? []).find(
      (p: Json) => p.in === 'path' && p.name === name,
    );
    const existing = known[`${path}:${name}`] ?? [];
    const choices: fc.Arbitrary<string>[] = [valid(parameter.schema).map(String)];
    if (existing.length > 0) {
      choices.push(
        fc.constantFrom(...existing),
        fc.constantFrom(...existing).map((v) => v.toUpperCase()),
      );
    }
    return fc.oneof(...choices);
  });
  return fc.tuple(...values).map((parts) => {
    let i = 0;
    return path.replace(/\{\w+\}/g, () => encodeURIComponent(parts[i++] ?? ''));
  });
}

/** Query strings from the operation's query parameters, each optional one sometimes left out. */
function queryArbitrary(operation: Json): fc.Arbitrary<Record<string, string>> {
  const parameters = (operation.parameters ?? []).filter((p: Json) => p.in === 'query');
  const record: Record<string, fc.Arbitrary<string>> = {};
  for (const parameter of parameters) {
    // nextToken: only tokens the API returned are valid, and none exist yet.
    if (parameter.name === 'nextToken') continue;
    record[parameter.name] = valid(parameter.schema).map(String);
  }
  return fc.record(record, { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>;
}

function documented(operation: Json, status: number): boolean {
  return operation.responses[String(status)] !== undefined;
}

describe('generated requests, per operation of the document', () => {
  let api: Api;
  const known: Record<string, string[]> = {};

  beforeAll(async () => {
    api = await apiUnderTest();
    const type = (
      await api.call('POST', '/meter-types', meterTypeBody({ externalRef: 'fuzz-ref' }))
    ).body;
    const meter = (
      await api.call('POST', '/meters', {
        meterKey: 'k',
        meterTypeId: type.id,
        userId: 'fuzz-user',
      })
    ).body;
    for (const path of ['/meter-types/{id}']) known[`${path}:id`] = [type.id];
    for (const path of ['/meters/{id}', '/meters/{id}/records']) known[`${path}:id`] = [meter.id];
    known['/users/{userId}/usage:userId'] = ['fuzz-user'];
    known['/streams/{name}:name'] = ['test-stream-0'];
    known['/streams/{name}/dry-run:name'] = ['test-stream-0'];
  });

  for (const [method, path, operation] of operations) {
    const schema = operation.requestBody?.content?.['application/json']?.schema;

    it(
      `${method} ${path}: valid requests are accepted or get a documented 4xx`,
      async () => {
        await fc.assert(
          fc.asyncProperty(
            pathArbitrary(path, operation, known),
            queryArbitrary(operation),
            schema ? valid(schema) : fc.constant(undefined),
            async (target, query, body) => {
              // Deletes would remove the fixtures the other operations read.
              if (
                method === 'DELETE' &&
                Object.values(known)
                  .flat()
                  .some((v) => target.toLowerCase().includes(v))
              )
                return;
              const response = await api.call(method, target, body, { query });
              const where = `${method} ${API_BASE_PATH}${target} ${JSON.stringify(query)} ${JSON.stringify(body)} → ${response.status} ${response.raw.slice(0, 500)}`;
              expect(response.status, where).toBeLessThan(500);
              expect(documented(operation, response.status), where).toBe(true);
              if (response.status === 400) {
                const issues: { message: string }[] = response.body.issues ?? [
                  { message: response.body.message },
                ];
                for (const issue of issues) {
                  expect(
                    RULES_IN_WORDS.some((rule) => rule.test(issue.message)),
                    `${where}: a valid request refused`,
                  ).toBe(true);
                }
              }
            },
          ),
          { numRuns: RUNS },
        );
      },
      TIMEOUT,
    );

    const invalid = schema ? invalidObject(schema) : undefined;
    if (invalid) {
      it(
        `${method} ${path}: invalid bodies get a documented 4xx`,
        async () => {
          await fc.assert(
            fc.asyncProperty(
              pathArbitrary(path, operation, known),
              invalid,
              async (target, body) => {
                const response = await api.call(method, target, body);
                const where = `${method} ${target} ${JSON.stringify(body)} → ${response.status} ${response.raw.slice(0, 300)}`;
                expect(response.status, where).toBeGreaterThanOrEqual(400);
                expect(response.status, where).toBeLessThan(500);
                expect(documented(operation, response.status), where).toBe(true);
              },
            ),
            { numRuns: RUNS },
          );
        },
        TIMEOUT,
      );
    }
  }
});
