/** The data-correction routes: list, read, re-send and delete records that were not metered. */
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
import type { Route } from './api.js';
import { jsonResponse } from './http-errors.js';
import { idParam, noContent, pagingQuery } from './route-helpers.js';

const correctionListQuery = z.strictObject({
  reason: z
    .enum(CORRECTION_REASONS, { error: `must be one of ${CORRECTION_REASONS.join(', ')}` })
    .optional(),
  ...pagingQuery,
});

/**
 * The routes under `/corrections`, bound to their own dependencies; pass them to the API as
 * `extraRoutes`.
 *
 * @example
 * createApiHandler({ ...deps, extraRoutes: dataCorrectionRoutes({ corrections, streamWriter, now }) });
 */
export function dataCorrectionRoutes(deps: DataCorrectionDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/corrections',
      handle: async (req) => {
        const { limit, nextToken, reason } = parseOrThrow(correctionListQuery, req.query);
        const page = await listDataCorrections(deps, { reason }, limit, nextToken);
        return jsonResponse(200, { corrections: page.items, nextToken: page.nextToken });
      },
    },
    {
      method: 'GET',
      path: '/corrections/{id}',
      handle: async (req) =>
        jsonResponse(
          200,
          await getDataCorrection(deps, idParam(req, 'id', 'data-correction entry')),
        ),
    },
    {
      // No body is needed; one that is sent is ignored. Admin, not write: the record goes back
      // on its stream and is counted, so re-sending changes usage as much as deleting does.
      method: 'POST',
      path: '/corrections/{id}/reprocess',
      access: 'admin',
      handle: async (req) =>
        jsonResponse(
          200,
          await reprocessDataCorrection(deps, idParam(req, 'id', 'data-correction entry')),
        ),
    },
    {
      method: 'DELETE',
      path: '/corrections/{id}',
      handle: async (req) => {
        await deleteDataCorrection(deps, idParam(req, 'id', 'data-correction entry'));
        return noContent();
      },
    },
  ];
}
