/** The operations of meter types and meters: thin adapters from a request to a use case. */
import { z } from 'zod';
import {
  createMeterType,
  deleteMeterType,
  getMeterType,
  listMeterTypes,
  type MeterTypeDeps,
  updateMeterType,
} from '../application/meter-types.js';
import {
  createMeter,
  deleteMeter,
  getMeter,
  listMeters,
  type MeterDeps,
  updateMeter,
} from '../application/meters.js';
import { identifier, lowerCaseUuid } from '../domain/schema-primitives.js';
import { parseOrThrow } from '../domain/validation.js';
import { created, jsonResponse, noContent } from './responses.js';
import { idParam, type Operations, pagingQuery } from './route-helpers.js';
import { API_BASE_PATH } from './route-specs.js';

/** Query string of `GET /meter-types`. */
export const meterTypeListQuery = z.strictObject({
  ...pagingQuery,
  category: identifier(80).optional(),
  name: identifier(80).optional(),
});

/** Query string of `GET /meters`. */
export const meterListQuery = z.strictObject({
  ...pagingQuery,
  meterTypeId: lowerCaseUuid('must be a meter type id (a UUID)').optional(),
  userId: identifier(256).optional(),
  meterKey: identifier(100).optional(),
});

/** The meter-type operations, bound to their dependencies. */
export function meterTypeOperations(deps: MeterTypeDeps) {
  const typeId = (req: { params: Record<string, string> }) => idParam(req, 'id', 'meter type');
  return {
    createMeterType: async (req) => {
      const type = await createMeterType(deps, req.body);
      return created(`${API_BASE_PATH}/meter-types/${type.id}`, type);
    },
    listMeterTypes: async (req) => {
      const { limit, nextToken, ...filter } = parseOrThrow(meterTypeListQuery, req.query);
      const page = await listMeterTypes(deps, filter, limit, nextToken);
      return jsonResponse(200, { meterTypes: page.items, nextToken: page.nextToken });
    },
    getMeterType: async (req) => jsonResponse(200, await getMeterType(deps, typeId(req))),
    updateMeterType: async (req) =>
      jsonResponse(200, await updateMeterType(deps, typeId(req), req.body)),
    deleteMeterType: async (req) => {
      await deleteMeterType(deps, typeId(req));
      return noContent();
    },
  } satisfies Partial<Operations>;
}

/** The meter operations, bound to their dependencies. */
export function meterOperations(deps: MeterDeps) {
  const meterId = (req: { params: Record<string, string> }) => idParam(req, 'id', 'meter');
  return {
    createMeter: async (req) => {
      const meter = await createMeter(deps, req.body);
      return created(`${API_BASE_PATH}/meters/${meter.id}`, meter);
    },
    listMeters: async (req) => {
      const { limit, nextToken, ...filter } = parseOrThrow(meterListQuery, req.query);
      const page = await listMeters(deps, filter, limit, nextToken);
      return jsonResponse(200, { meters: page.items, nextToken: page.nextToken });
    },
    getMeter: async (req) => jsonResponse(200, await getMeter(deps, meterId(req))),
    updateMeter: async (req) => jsonResponse(200, await updateMeter(deps, meterId(req), req.body)),
    deleteMeter: async (req) => {
      await deleteMeter(deps, meterId(req));
      return noContent();
    },
  } satisfies Partial<Operations>;
}
