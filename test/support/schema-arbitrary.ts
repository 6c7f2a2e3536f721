/**
 * fast-check arbitraries built from the OpenAPI document's JSON Schemas: values a schema
 * accepts, and values that break it in one place (a required field dropped, a wrong type, an
 * unknown field, a string out of its pattern or length). For the generated-request test.
 */
import fc from 'fast-check';
import { openApiDocument } from './contract.js';

type Json = any;

function resolve(ref: string): Json {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce(
      (node: Json, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')],
      openApiDocument,
    );
}

const deref = (schema: Json): Json => (schema?.$ref ? deref(resolve(schema.$ref)) : schema);

/** A string the schema's length, pattern and format allow. */
function stringArbitrary(schema: Json): fc.Arbitrary<string> {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) {
    return fc.constantFrom(...(schema.examples as string[]));
  }
  if (schema.format === 'uuid') return fc.uuid({ version: 4 });
  if (schema.format === 'date-time') {
    return fc
      .date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2100-01-01T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
  }
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 40, min + 40);
  const fits = (s: string) => s.length >= min && s.length <= (schema.maxLength ?? Infinity);
  if (schema.pattern) {
    const regex = new RegExp(schema.pattern, 'u');
    if (schema.pattern.startsWith('^[^\\s')) {
      // The identifier pattern: printable text without outer whitespace.
      return fc
        .string({ minLength: Math.max(min, 1), maxLength: max, unit: 'grapheme' })
        .filter((s) => regex.test(s) && fits(s));
    }
    return fc.stringMatching(regex).filter(fits);
  }
  return fc.string({ minLength: min, maxLength: max });
}

function numberArbitrary(schema: Json): fc.Arbitrary<number> {
  const integer = schema.type === 'integer';
  const min = schema.minimum ?? schema.exclusiveMinimum ?? (integer ? -1_000_000 : -1e9);
  const max = schema.maximum ?? schema.exclusiveMaximum ?? (integer ? 1_000_000 : 1e9);
  const base = integer
    ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
    : fc.oneof(
        fc.integer({ min: Math.ceil(Math.max(min, -1e6)), max: Math.floor(Math.min(max, 1e6)) }),
        fc.double({ min, max, noNaN: true, noDefaultInfinity: true }),
      );
  return base.filter(
    (n) =>
      (schema.exclusiveMinimum === undefined || n > schema.exclusiveMinimum) &&
      (schema.exclusiveMaximum === undefined || n < schema.exclusiveMaximum),
  );
}

/** Free-form JSON values, small. */
const anyJson = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);

function objectArbitrary(schema: Json, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties: Record<string, Json> = schema.properties ?? {};
  if (Object.keys(properties).length === 0 && schema.additionalProperties !== false) {
    const values =
      schema.additionalProperties && typeof schema.additionalProperties === 'object'
        ? Object.keys(schema.additionalProperties).length === 0
          ? anyJson
          : valid(schema.additionalProperties, depth + 1)
        : anyJson;
    const keys = schema.propertyNames
      ? stringArbitrary(deref(schema.propertyNames))
      : fc.string({ minLength: 1, maxLength: 8 });
    return fc.dictionary(
      keys.filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)),
      values,
      { maxKeys: 3 },
    );
  }
  // `oneOf` of `required` clauses (exactly one of some fields): one clause, without the others.
  const clauses: string[][] | undefined = Array.isArray(schema.oneOf)
    ? schema.oneOf.map((c: Json) => c.required ?? [])
    : undefined;
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, property] of Object.entries(properties)) {
    record[name] = valid(property, depth + 1);
  }
  const build = (clause: string[] | undefined) => {
    const others = clauses?.flat().filter((f) => !clause?.includes(f)) ?? [];
    const required: string[] = [...(schema.required ?? []), ...(clause ?? [])];
    const own = Object.fromEntries(
      Object.entries(record).filter(([name]) => !others.includes(name)),
    );
    return fc.record(own, { requiredKeys: required.filter((name) => name in own) });
  };
  const arbitrary = clauses
    ? fc.oneof(...clauses.map((clause) => build(clause)))
    : build(undefined);
  return (arbitrary as fc.Arbitrary<Record<string, unknown>>).filter(
    (value) =>
      schema.minProperties === undefined || Object.keys(value).length >= schema.minProperties,
  );
}

/** Values the schema accepts. */
export function valid(input: Json, depth = 0): fc.Arbitrary<unknown> {
  const schema = deref(input);
  if (schema === undefined || Object.keys(schema).length === 0) return anyJson;
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[key]) && schema.type === undefined && !schema.properties) {
      return fc.oneof(...schema[key].map((branch: Json) => valid(branch, depth)));
    }
  }
  if (Array.isArray(schema.type)) {
    return fc.oneof(...schema.type.map((type: string) => valid({ ...schema, type }, depth)));
  }
  switch (schema.type) {
    case 'string':
      return stringArbitrary(schema);
    case 'number':
    case 'integer':
      return numberArbitrary(schema);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valid(schema.items ?? {}, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, (schema.minItems ?? 0) + 3),
      });
    default:
      return depth > 6 ? fc.constant({}) : objectArbitrary(schema, depth);
  }
}

/** A value of another JSON type than the schema's. */
const wrongType = (schema: Json): fc.Arbitrary<unknown> => {
  const types = new Set<string>(Array.isArray(schema.type) ? schema.type : [schema.type]);
  const options: fc.Arbitrary<unknown>[] = [];
  if (!types.has('string')) options.push(fc.string({ maxLength: 5 }));
  if (!types.has('number') && !types.has('integer')) options.push(fc.integer());
  if (!types.has('boolean')) options.push(fc.boolean());
  if (!types.has('array')) options.push(fc.constant([]));
  if (!types.has('object')) options.push(fc.constant({ x: 1 }));
  return fc.oneof(...options);
};

/**
 * A body the schema refuses, by one change to a valid one: a required field dropped, a field of
 * the wrong type, or an unknown field where the object is closed. Undefined when the schema
 * has no such place (e.g. an object of optional fields of any type).
 */
export function invalidObject(input: Json): fc.Arbitrary<unknown> | undefined {
  const schema = deref(input);
  if (schema?.type !== 'object' || !schema.properties) return undefined;
  const properties = Object.entries<Json>(schema.properties).filter(
    ([, p]) => deref(p)?.type !== undefined || Array.isArray(deref(p)?.type),
  );
  const mutations: fc.Arbitrary<unknown>[] = [];
  const base = valid(schema) as fc.Arbitrary<Record<string, unknown>>;
  if ((schema.required ?? []).length > 0) {
    mutations.push(
      fc.tuple(base, fc.constantFrom(...(schema.required as string[]))).map(([body, field]) => {
        const { [field]: _dropped, ...rest } = body;
        return rest;
      }),
    );
  }
  if (properties.length > 0) {
    mutations.push(
      fc
        .constantFrom(...properties)
        .chain(([name, property]) => fc.tuple(base, fc.constant(name), wrongType(deref(property))))
        .map(([body, name, value]) => ({ ...body, [name]: value })),
    );
  }
  if (schema.additionalProperties === false) {
    mutations.push(base.map((body) => ({ ...body, notAField: true })));
  }
  mutations.push(fc.constantFrom(null, [], 'text', 7));
  return fc.oneof(...mutations);
}
