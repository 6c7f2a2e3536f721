/**
 * The history operations: list (as JSON, CSV or NDJSON), read and re-send metered records. A
 * record's JSON is answered exactly as it was kept, which is exactly what was sent.
 */
import { z } from 'zod';
import {
  getMeteredRecord,
  listMeteredRecords,
  type MeteredRecordDeps,
  resendMeteredRecord,
  userUsage,
} from '../application/metered-records.js';
import { ValidationError } from '../domain/errors.js';
import { historyCsv, type KeptRecord } from '../domain/record-history.js';
import { identifier, isoTimestamp, lowerCaseUuid } from '../domain/schema-primitives.js';
import { parseOrThrow } from '../domain/validation.js';
import { jsonResponse, type RouteResult } from './responses.js';
import { idParam, nextTokenQuery, type Operations, pageLimit, param } from './route-helpers.js';

/** The header that carries the next page's token in CSV and NDJSON answers. */
export const NEXT_TOKEN_HEADER = 'x-next-token';

/** `limit` (1–1000, default 100) and `nextToken` of the history: a page of records, not meters. */
const historyPaging = {
  limit: pageLimit(1000, 100),
  nextToken: nextTokenQuery,
};

const uuid = lowerCaseUuid('must be a meter id (a UUID)');
const normalized = isoTimestamp.transform((value) => new Date(value).toISOString());

/** The record type and time window both history lists take. */
const recordWindow = {
  recordType: z.enum(['final', 'partial'], { error: 'must be final or partial' }).optional(),
  from: normalized.optional(),
  to: normalized.optional(),
};

/** `to` not before `from`, where both are given. */
function windowInOrder(q: { from?: string; to?: string }): boolean {
  return q.from === undefined || q.to === undefined || q.from <= q.to;
}
const windowOutOfOrder = { path: ['to'], error: 'must not be before from' };

/** Query string of `GET /metered-records`. */
export const meteredRecordListQuery = z
  .strictObject({
    ...historyPaging,
    userId: identifier(256).optional(),
    meterId: uuid.optional(),
    meterTypeId: lowerCaseUuid('must be a meter type id (a UUID)').optional(),
    meterKey: identifier(100).optional(),
    ...recordWindow,
  })
  .refine(windowInOrder, windowOutOfOrder);

/** Query string of `GET /meters/{id}/records`. */
export const meterRecordListQuery = z
  .strictObject({ ...historyPaging, ...recordWindow })
  .refine(windowInOrder, windowOutOfOrder);

const userPath = z.strictObject({ userId: identifier(256) });

type Format = 'json' | 'csv' | 'ndjson';

/** The answer's format from the `accept` header: CSV, NDJSON, or (anything else) JSON. */
export function formatOf(accept: string | undefined): Format {
  const types = (accept ?? '').split(',').map((part) => part.split(';')[0]?.trim().toLowerCase());
  if (types.includes('text/csv')) return 'csv';
  if (types.includes('application/x-ndjson')) return 'ndjson';
  return 'json';
}

/** A page of records in the asked format; the records' JSON verbatim. */
function pageResponse(
  page: { items: KeptRecord[]; nextToken?: string },
  format: Format,
): RouteResult {
  const tokenHeader: Record<string, string> = page.nextToken
    ? { [NEXT_TOKEN_HEADER]: page.nextToken }
    : {};
  if (format === 'csv') {
    const body = historyCsv(page.items.map((kept) => kept.record));
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/csv; charset=utf-8', ...tokenHeader },
      body,
    };
  }
  if (format === 'ndjson') {
    const body = page.items.map((kept) => `${kept.json}\n`).join('');
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/x-ndjson', ...tokenHeader },
      body,
    };
  }
  const token = page.nextToken ? `,"nextToken":${JSON.stringify(page.nextToken)}` : '';
  const body = `{"meteredRecords":[${page.items.map((kept) => kept.json).join(',')}]${token}}`;
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body };
}

function recordResponse(kept: KeptRecord): RouteResult {
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: kept.json };
}

/** The history operations, bound to their dependencies. */
export function meteredRecordOperations(deps: MeteredRecordDeps) {
  const recordId = (req: { params: Record<string, string> }) =>
    idParam(req, 'recordId', 'metered record');
  return {
    listMeteredRecords: async (req) => {
      const { limit, nextToken, ...filter } = parseOrThrow(meteredRecordListQuery, req.query);
      if (!filter.userId && !filter.meterId && !filter.meterTypeId) {
        throw new ValidationError([
          { field: 'userId', message: 'give userId, meterId or meterTypeId to select records' },
        ]);
      }
      const page = await listMeteredRecords(deps, filter, limit, nextToken);
      return pageResponse(page, formatOf(req.accept));
    },
    listMeterRecords: async (req) => {
      const meterId = idParam(req, 'id', 'meter');
      const { limit, nextToken, ...filter } = parseOrThrow(meterRecordListQuery, req.query);
      const page = await listMeteredRecords(deps, { ...filter, meterId }, limit, nextToken);
      return pageResponse(page, formatOf(req.accept));
    },
    getMeteredRecord: async (req) => recordResponse(await getMeteredRecord(deps, recordId(req))),
    getUserUsage: async (req) => {
      const { userId } = parseOrThrow(userPath, { userId: param(req, 'userId') });
      return jsonResponse(200, await userUsage(deps, userId));
    },
    // No body is needed; one that is sent is ignored (the router still refuses one that is not JSON).
    resendMeteredRecord: async (req) =>
      recordResponse(await resendMeteredRecord(deps, recordId(req))),
  } satisfies Partial<Operations>;
}
