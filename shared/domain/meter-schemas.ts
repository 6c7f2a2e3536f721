/**
 * zod schemas of meters: the bodies of `POST` and `PATCH /meters`, and the custom fields a meter
 * carries into its metered records. Limits and defaults come from DOMAIN.md.
 */
import { z } from 'zod';
import { identifier, isStorableNumber, jsonDepth, lowerCaseUuid } from './schema-primitives.js';

const MAX_CUSTOM_FIELDS_BYTES = 4096;
const MAX_JSON_DEPTH = 8;

/** The first number in a (shallow enough) JSON value that cannot be stored, if any. */
function unstorableNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return isStorableNumber(value) ? undefined : value;
  if (value === null || typeof value !== 'object') return undefined;
  for (const child of Object.values(value)) {
    const found = unstorableNumber(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Free-form fields a meter carries into its metered records: small, shallow JSON objects. */
export const customFieldsSchema = z
  .record(identifier(100), z.unknown(), { error: 'must be an object' })
  .refine((fields) => jsonDepth(fields, MAX_JSON_DEPTH) <= MAX_JSON_DEPTH, {
    error: `must not be nested deeper than ${MAX_JSON_DEPTH} levels`,
    abort: true,
  })
  .refine((fields) => unstorableNumber(fields) === undefined, {
    error: `numbers must be finite and between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`,
    abort: true,
  })
  .refine((fields) => Buffer.byteLength(JSON.stringify(fields)) <= MAX_CUSTOM_FIELDS_BYTES, {
    error: `must be at most ${MAX_CUSTOM_FIELDS_BYTES} bytes as JSON`,
  });

/** Body of `POST /meters`: exactly one of `meterTypeId` and `meterTypeExternalRef`. */
export const meterCreateSchema = z
  .strictObject({
    meterKey: identifier(100),
    meterTypeId: lowerCaseUuid('must be a meter type id (a UUID)').optional(),
    meterTypeExternalRef: identifier(100).optional(),
    userId: identifier(256),
    customFields: customFieldsSchema.default({}),
    deleteOnReset: z.boolean({ error: 'must be true or false' }).default(false),
  })
  .superRefine((body, ctx) => {
    const given =
      Number(body.meterTypeId !== undefined) + Number(body.meterTypeExternalRef !== undefined);
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['meterTypeId'],
        message: 'give exactly one of meterTypeId and meterTypeExternalRef',
      });
    }
  });
export type MeterCreate = z.infer<typeof meterCreateSchema>;

/** Body of `PATCH /meters/{id}`: only `deleteOnReset` and `customFields` may change. */
export const meterUpdateSchema = z
  .strictObject({
    deleteOnReset: z.boolean({ error: 'must be true or false' }).optional(),
    customFields: customFieldsSchema.optional(),
  })
  .refine((body) => body.deleteOnReset !== undefined || body.customFields !== undefined, {
    error: 'must change deleteOnReset or customFields',
  });
export type MeterUpdate = z.infer<typeof meterUpdateSchema>;
