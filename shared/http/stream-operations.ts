/** `GET /streams`: the configured streams (meter processors), as a client needs to know them. */
import type { StreamConfig } from '../domain/stream-schemas.js';
import { jsonResponse } from './responses.js';
import type { Operations } from './route-helpers.js';

/** What the API shows of a stream: where its records go, not how they are validated or enriched. */
export interface StreamView {
  name: string;
  meterKey: string;
  description?: string;
  fields: StreamConfig['fields'];
  guidingRules: { name: string; category: string; groupBy: string[] }[];
  carryFirst: string[];
  carryLast: string[];
  deduplication: StreamConfig['deduplication'];
  lateRecordPolicy: StreamConfig['lateRecordPolicy'];
}

/** The public view of one stream configuration. */
export function streamView(stream: StreamConfig): StreamView {
  return {
    name: stream.name,
    meterKey: stream.meterKey,
    ...(stream.description === undefined ? {} : { description: stream.description }),
    fields: stream.fields,
    guidingRules: stream.guidingRules.map((rule) => ({
      name: rule.name,
      category: rule.category,
      groupBy: rule.groupBy,
    })),
    carryFirst: stream.carryFirst,
    carryLast: stream.carryLast,
    deduplication: stream.deduplication,
    lateRecordPolicy: stream.lateRecordPolicy,
  };
}

/** The stream operations for the configured streams. */
export function streamOperations(streams: readonly StreamConfig[]) {
  const body = { streams: streams.map(streamView) };
  return {
    listStreams: async () => jsonResponse(200, body),
  } satisfies Partial<Operations>;
}
