/**
 * Section 7 of the bench: HTTP ingestion. Usage records are POSTed to `/usage-records` in
 * requests of 500 (four in flight) and put on the local Kinesis by the API; the figure is the
 * records per second the API accepted onto the stream (every 202 result `accepted`). Metering
 * them is section 6's figure; this section measures only the HTTP path into Kinesis.
 */
import { forEachLimited } from '../../shared/application/concurrency.js';
import { startLocalStack } from '../../shared/local/local-stack.js';
import { fixed, int, type Row, rate } from './report.js';

/** Posts one request body, answering its status and parsed body. */
export type PostRecords = (body: unknown[]) => Promise<{ status: number; body: any }>;

export interface HttpIngestResult {
  records: number;
  requests: number;
  accepted: number;
  retried: number;
  ms: number;
  perSecond: number;
}

/** POSTs `records` usage records in requests of `perRequest`, resending the refused ones. */
export async function measureHttpIngest(
  post: PostRecords,
  options: { records: number; perRequest: number; users: number; concurrency: number },
): Promise<HttpIngestResult> {
  const bodies: unknown[][] = [];
  for (let i = 0; i < options.records; i += options.perRequest) {
    const count = Math.min(options.perRequest, options.records - i);
    bodies.push(
      Array.from({ length: count }, (_, j) => ({
        userId: `user-${(i + j) % options.users}`,
        value: 1,
        eventId: `bench-${i + j}`,
        service: 'voice',
      })),
    );
  }
  let accepted = 0;
  let retried = 0;
  let requests = 0;
  const started = performance.now();
  await forEachLimited(bodies, options.concurrency, async (body) => {
    let pending = body;
    while (pending.length > 0) {
      requests++;
      const res = await post(pending);
      if (res.status !== 202)
        throw new Error(`POST answered ${res.status}: ${JSON.stringify(res.body)}`);
      const results = res.body.results as { index: number; status: string; retryable?: boolean }[];
      const again = results.filter((r) => r.status !== 'accepted' && r.retryable);
      if (results.some((r) => r.status !== 'accepted' && !r.retryable)) {
        throw new Error(`records refused for good: ${JSON.stringify(res.body).slice(0, 400)}`);
      }
      accepted += results.length - again.length;
      retried += again.length;
      pending = again.map((r) => pending[r.index]);
    }
  });
  const ms = performance.now() - started;
  return {
    records: options.records,
    requests,
    accepted,
    retried,
    ms,
    perSecond: accepted / (ms / 1000),
  };
}

/** Section 7 against the local stack (its API and local Kinesis). */
export async function measureHttpIngestLocal(options: {
  records: number;
  users: number;
}): Promise<HttpIngestResult> {
  const stack = await startLocalStack({ port: 0, kinesisPort: 0, log: () => undefined });
  try {
    const post: PostRecords = async (body) => {
      const response = await fetch(`${stack.apiUrl}/usage-records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    };
    return await measureHttpIngest(post, { ...options, perRequest: 500, concurrency: 4 });
  } finally {
    await stack.stop();
  }
}

export function httpIngestRows(r: HttpIngestResult): Row[] {
  return [
    {
      section: '7',
      measure: `HTTP ingestion: ${int(r.records)} records POSTed to /usage-records (500 a request, 4 in flight) → API → PutRecords → local Kinesis`,
      measured: `${rate(r.perSecond)} records/s`,
      target: 'no target: the API adds one PutRecords per request',
      ratio: '',
      notes: `${int(r.requests)} requests in ${fixed(r.ms / 1000, 1)} s; ${int(r.accepted)} accepted, ${int(r.retried)} resent after THROTTLED or STREAM_FAILURE`,
    },
  ];
}
