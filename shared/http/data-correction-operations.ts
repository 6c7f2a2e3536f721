/** The data-correction operations: list, read, re-send and delete records that were not metered. */
import { z } from 'zod';
import {
  type DataCorrectionDeps,
  deleteDataCorrection,
  getDataCorrection,
  listDataCorrections,
  reprocessDataCorrection,
} from '../application/data-corrections.js';
import { parseOrThrow } from '../domain/validation.js';
import { CORRECTION_REASONS } from '../ports/data-correction-store.js';
import { jsonResponse, noContent } from './responses.js';
import { idParam, type Operations, pagingQuery } from './route-helpers.js';

/** Query string of `GET /corrections`. */
export const correctionListQuery = z.strictObject({
  reason: z
    .enum(CORRECTION_REASONS, { error: `must be one of ${CORRECTION_REASONS.join(', ')}` })
    .optional(),
  ...pagingQuery,
});

/** The data-correction operations, bound to their dependencies. */
export function dataCorrectionOperations(deps: DataCorrectionDeps) {
  const entryId = (req: { params: Record<string, string> }) =>
    idParam(req, 'id', 'data-correction entry');
  return {
    listDataCorrections: async (req) => {
      const { limit, nextToken, reason } = parseOrThrow(correctionListQuery, req.query);
      const page = await listDataCorrections(deps, { reason }, limit, nextToken);
      return jsonResponse(200, { corrections: page.items, nextToken: page.nextToken });
    },
    getDataCorrection: async (req) =>
      jsonResponse(200, await getDataCorrection(deps, entryId(req))),
    // No body is needed; one that is sent is ignored (the router still refuses one that is not JSON).
    reprocessDataCorrection: async (req) =>
      jsonResponse(200, await reprocessDataCorrection(deps, entryId(req))),
    deleteDataCorrection: async (req) => {
      await deleteDataCorrection(deps, entryId(req));
      return noContent();
    },
  } satisfies Partial<Operations>;
}
