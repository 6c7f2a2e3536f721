/**
 * The API's paths as the console calls them. Every route it uses is now in the OpenAPI document,
 * so this is the generated declaration itself; the names below are the shapes pages refer to.
 */
import type { components, paths } from './openapi-types.js';

/** The filter of the bulk correction actions and of the correction list. */
export type CorrectionFilter = Omit<components['schemas']['DataCorrectionBulkFilter'], 'all'>;

/** One version of a stream's configuration. */
export type StreamVersion = components['schemas']['StreamVersionList']['versions'][number];

/** The API's paths, all generated from the OpenAPI document. */
export type Paths = paths;
