/** The data-correction operations: list, count, read, re-send and delete records that were not metered. */
import { z } from 'zod';
import {
  countOpenDataCorrections,
  deleteDataCorrections,
  reprocessDataCorrections,
} from '../application/data-correction-bulk.js';
import {
  type DataCorrectionDeps,
  deleteDataCorrection,
  getDataCorrection,
  listDataCorrections,
  reprocessDataCorrection,
} from '../application/data-corrections.js';
import { identifier, isoTimestamp } from '../domain/schema-primitives.js';
import { parseOrThrow } from '../domain/validation.js';
import { CORRECTION_REASONS, type DataCorrectionFilter } from '../ports/data-correction-store.js';
import { jsonResponse, noContent } from './responses.js';
import { idParam, type Operations, pagingQuery } from './route-helpers.js';

const instant = isoTimestamp.transform((value) => new Date(value).toISOString());

/** What every correction filter takes: reason, user, and a time window on `correctedAt`. */
const filterFields = {
  reason: z
    .enum(CORRECTION_REASONS, { error: `must be one of ${CORRECTION_REASONS.join(', ')}` })
    .optional(),
  userId: identifier(256).optional(),
  from: instant.optional().describe('`correctedAt` at or after this instant (inclusive)'),
  to: instant.optional().describe('`correctedAt` before this instant (exclusive)'),
};

const fromBeforeTo = (q: { from?: string; to?: string }) =>
  q.from === undefined || q.to === undefined || q.from < q.to;
const fromBeforeToIssue = { path: ['to'], error: 'must be after from' };

/** Query string of `GET /corrections`. */
export const correctionListQuery = z
  .strictObject({ ...filterFields, ...pagingQuery })
  .refine(fromBeforeTo, fromBeforeToIssue);

/**
 * Body of the bulk routes: at least one filter, or `all: true` alone, so an empty body can never
 * mean "every entry".
 */
export const correctionBulkFilter = z
  .strictObject({
    ...filterFields,
    all: z
      .literal(true, { error: 'must be true (to mean every entry) or left out' })
      .optional()
      .describe('`true` to mean every entry; not combined with a filter'),
  })
  .refine(fromBeforeTo, fromBeforeToIssue)
  .superRefine((body, ctx) => {
    const filtered = ['reason', 'userId', 'from', 'to'].some(
      (field) => body[field as keyof typeof body] !== undefined,
    );
    if (body.all && filtered) {
      ctx.addIssue({ code: 'custom', path: ['all'], message: 'must not be given with a filter' });
    } else if (!body.all && !filtered) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'give reason, userId, from or to, or { "all": true } for every entry',
      });
    }
  });

function bulkFilterOf(body: unknown): DataCorrectionFilter {
  const { all: _all, ...filter } = parseOrThrow(correctionBulkFilter, body);
  return filter;
}

/** The data-correction operations, bound to their dependencies. */
export function dataCorrectionOperations(deps: DataCorrectionDeps) {
  const entryId = (req: { params: Record<string, string> }) =>
    idParam(req, 'id', 'data-correction entry');
  return {
    listDataCorrections: async (req) => {
      const { limit, nextToken, ...filter } = parseOrThrow(correctionListQuery, req.query);
      const page = await listDataCorrections(deps, filter, limit, nextToken);
      return jsonResponse(200, { corrections: page.items, nextToken: page.nextToken });
    },
    countDataCorrections: async () =>
      jsonResponse(200, { counts: await countOpenDataCorrections(deps) }),
    getDataCorrection: async (req) =>
      jsonResponse(200, await getDataCorrection(deps, entryId(req))),
    // No body is needed; one that is sent is ignored (the router still refuses one that is not JSON).
    reprocessDataCorrection: async (req) =>
      jsonResponse(200, await reprocessDataCorrection(deps, entryId(req))),
    reprocessDataCorrections: async (req) =>
      jsonResponse(200, await reprocessDataCorrections(deps, bulkFilterOf(req.body))),
    deleteDataCorrection: async (req) => {
      await deleteDataCorrection(deps, entryId(req));
      return noContent();
    },
    deleteDataCorrections: async (req) =>
      jsonResponse(200, await deleteDataCorrections(deps, bulkFilterOf(req.body))),
  } satisfies Partial<Operations>;
}
