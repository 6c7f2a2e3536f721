/**
 * The guided demo (`npm run demo`): drives a running local stack through its public surfaces
 * only (HTTP, Kinesis, the records file) and checks every step against what it computed.
 */
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { MeterType } from '../shared/domain/meter.js';
import type { MeterView } from '../shared/domain/meter-view.js';
import type { MeteredRecord } from '../shared/domain/metered-record.js';
import { createLocalKinesisClient } from '../shared/local/kinesis-local.js';
import type { DataCorrection } from '../shared/ports/data-correction-store.js';

/** Where the local stack is. */
export interface DemoOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:3000/usage-metering/v1`. */
  apiUrl: string;
  /** The local Kinesis, e.g. `http://127.0.0.1:4567`. */
  kinesisEndpoint: string;
  /** The JSON-lines file the stack appends metered records to. */
  recordsFile: string;
  /** The stream to put usage on; its guiding rules must send `service: voice` to VOICE by region. */
  streamName?: string;
  /** Where the demo's lines go; `console.log` by default. */
  log?: (line: string) => void;
}

const RECORDS = 1_000;
const PUT_RECORDS_MAX = 500;
const THRESHOLD = { name: '1000-minutes', value: 1000 };
/** Less time than this left in the minute, and the demo starts at the next one. */
const MIN_SECONDS_LEFT = 25;
/** The scheduler fires at the period end; the sweeper (every 15 s) is the safety net. */
const FINAL_RECORD_SLACK_MS = 40_000;
const POLL_MS = 250;

/** A step saw something other than what it expected. */
class DemoStepError extends Error {
  override readonly name = 'DemoStepError';
}

interface Customer {
  name: string;
  userId: string;
  meter?: MeterView;
  /** Expected usage in tenths of a minute, exact. */
  tenths: number;
  records: number;
  tenthsByRegion: Record<string, number>;
}

interface UsageEvent {
  userId: string;
  service: string;
  region: string;
  value: number;
  timestamp: string;
  eventId: string;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const tenthsOf = (value: number | string) => Math.round(Number(value) * 10);
const minutes = (tenths: number) => `${tenths / 10}`;
const clock = (iso: string) => iso.slice(11, 23);

/** Runs the demo; resolves `true` only if every step saw what it expected. */
export async function runDemo(options: DemoOptions): Promise<boolean> {
  const log = options.log ?? ((line: string) => console.log(line));
  const demo = new Demo(options, log);
  const started = Date.now();
  try {
    await demo.run();
    log(
      `\n✔ demo passed in ${Math.round((Date.now() - started) / 1000)} s: every step saw what it expected`,
    );
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`   ✘ ${message}`);
    log(`\n✘ demo failed after ${Math.round((Date.now() - started) / 1000)} s`);
    return false;
  } finally {
    demo.close();
  }
}

class Demo {
  readonly #api: string;
  readonly #kinesis: KinesisClient;
  readonly #records: RecordsTail;
  readonly #log: (line: string) => void;
  readonly #runId = Date.now().toString(36);
  #streamName: string;
  #step = 0;

  constructor(options: DemoOptions, log: (line: string) => void) {
    this.#api = options.apiUrl.replace(/\/+$/, '');
    this.#kinesis = createLocalKinesisClient(options.kinesisEndpoint);
    this.#records = new RecordsTail(resolve(options.recordsFile));
    this.#streamName = options.streamName ?? 'usage-events';
    this.#log = log;
    log(`usage-metering demo against ${this.#api}`);
    log(`  Kinesis ${options.kinesisEndpoint} · metered records from ${this.#records.path}\n`);
  }

  close(): void {
    this.#kinesis.destroy();
  }

  async run(): Promise<void> {
    const meterKey = await this.checkStream();
    await this.#records.skipExisting();
    await this.waitForRoomInTheMinute();
    const type = await this.createMeterType();
    const customers = await this.createMeters(type, meterKey);
    const events = this.usageEvents(customers);
    await this.sendUsage(events);
    await this.watchMetersFill(customers);
    await this.findPartialPush(customers);
    await this.sendToDataCorrection(customers, events);
    await this.awaitFinalRecords(customers);
    await this.cleanUp(type, customers);
  }

  /** Step: the API answers and the stream routes voice usage the way the demo relies on. */
  async checkStream(): Promise<string> {
    this.step('Ask the API which streams it meters (GET /streams).');
    let response: HttpResult;
    try {
      response = await this.http('GET', '/streams');
    } catch (error) {
      throw new DemoStepError(
        `no API at ${this.#api} (${describeError(error)}): start the local stack with \`npm start\``,
      );
    }
    this.expectStatus(response, 200);
    const streams = (response.body as { streams: StreamSummary[] }).streams;
    const stream = streams.find((s) => s.name === this.#streamName);
    if (!stream) {
      throw new DemoStepError(
        `no stream named ${this.#streamName}; the API lists ${streams.map((s) => s.name).join(', ')}`,
      );
    }
    const voice = stream.guidingRules.find((rule) => rule.category === 'VOICE');
    if (!voice?.groupBy.includes('region')) {
      throw new DemoStepError(
        `stream ${stream.name} has no guiding rule to category VOICE grouped by region (the shipped configuration has one)`,
      );
    }
    this.pass(
      `stream ${stream.name} (meter key ${stream.meterKey}): rule '${voice.name}' sends voice usage to category VOICE, grouped by region; de-duplication by eventId is ${stream.deduplication.enabled ? 'on' : 'off'}`,
    );
    return stream.meterKey;
  }

  /** The meters' first period ends at the next minute: leave time to show everything in it. */
  async waitForRoomInTheMinute(): Promise<void> {
    const intoMinute = Date.now() % 60_000;
    const left = (60_000 - intoMinute) / 1000;
    if (left >= MIN_SECONDS_LEFT) return;
    const wait = 60_000 - intoMinute + 500;
    this.#log(
      `· ${left.toFixed(0)} s left in this minute: waiting ${(wait / 1000).toFixed(0)} s for the next one, so all the usage lands in one period\n`,
    );
    await sleep(wait);
  }

  /** Step: a meter type that resets every minute, with a threshold. */
  async createMeterType(): Promise<MeterType> {
    this.step(
      `Create a meter type that sums voice minutes, resets every minute and has a threshold at ${THRESHOLD.value} minutes.`,
    );
    const response = await this.http('POST', '/meter-types', {
      name: `demo-voice-minutes-${this.#runId}`,
      description: 'created by npm run demo',
      category: 'VOICE',
      unit: 'minutes',
      aggregation: { type: 'sum' },
      resetSchedule: { minute: '*', hour: '*', day: '*', month: '*', weekday: '*' },
      thresholds: [THRESHOLD],
    });
    this.expectStatus(response, 201);
    const type = response.body as MeterType;
    const location = response.headers.get('location') ?? '';
    if (!location.endsWith(`/meter-types/${type.id}`)) {
      throw new DemoStepError(`Location header '${location}' does not name the new meter type`);
    }
    this.pass(`meter type ${type.name} (id ${type.id}), Location ${location}`);
    return type;
  }

  /** Step: one meter per customer; each starts its period now and ends it at the minute. */
  async createMeters(type: MeterType, meterKey: string): Promise<Customer[]> {
    this.step(
      'Create meters for three customers; deleteOnReset removes them after their first period.',
    );
    const customers: Customer[] = ['alice', 'bob', 'carol'].map((name) => ({
      name,
      userId: `${name}-${this.#runId}`,
      tenths: 0,
      records: 0,
      tenthsByRegion: {},
    }));
    for (const customer of customers) {
      const response = await this.http('POST', '/meters', {
        meterKey,
        meterTypeId: type.id,
        userId: customer.userId,
        customFields: { plan: customer.name === 'alice' ? 'gold' : 'silver' },
        deleteOnReset: true,
      });
      this.expectStatus(response, 201);
      customer.meter = response.body as MeterView;
    }
    const [first] = customers;
    const periodEnd = first?.meter?.periodEnd ?? '';
    if (Date.parse(periodEnd) % 60_000 !== 0 || Date.parse(periodEnd) <= Date.now()) {
      throw new DemoStepError(`the first period should end at the next minute, not ${periodEnd}`);
    }
    for (const customer of customers) {
      this.pass(
        `meter ${customer.meter?.id} for ${customer.userId}: period ${clock(customer.meter?.periodStart ?? '')} → ${clock(customer.meter?.periodEnd ?? '')} UTC`,
      );
    }
    return customers;
  }

  /** 1,000 voice records of 0.1–4.9 minutes: 50 % alice, 30 % bob, 20 % carol, in two regions. */
  usageEvents(customers: Customer[]): UsageEvent[] {
    const timestamp = new Date().toISOString();
    return Array.from({ length: RECORDS }, (_, i) => {
      const slot = i % 10;
      const customer = customers[slot < 5 ? 0 : slot < 8 ? 1 : 2] as Customer;
      const tenths = ((i * 37) % 49) + 1;
      const region = i % 2 === 0 ? 'us' : 'eu';
      customer.tenths += tenths;
      customer.records += 1;
      customer.tenthsByRegion[region] = (customer.tenthsByRegion[region] ?? 0) + tenths;
      return {
        userId: customer.userId,
        service: 'voice',
        region,
        value: tenths / 10,
        timestamp,
        eventId: `${this.#runId}-${i}`,
      };
    });
  }

  /** Step: put the records on the stream with PutRecords. */
  async sendUsage(events: UsageEvent[]): Promise<void> {
    this.step(
      `Put ${RECORDS.toLocaleString('en')} usage records on stream ${this.#streamName} with Kinesis PutRecords (${PUT_RECORDS_MAX} per call).`,
    );
    const started = Date.now();
    const calls = await this.putRecords(events.map((event) => ({ event, key: event.userId })));
    this.pass(
      `${events.length.toLocaleString('en')} records of 0.1 to 4.9 minutes accepted by Kinesis in ${calls} PutRecords calls (${Date.now() - started} ms), each stamped ${clock(events[0]?.timestamp ?? '')} UTC`,
    );
  }

  /** Step: poll the meters until they hold what the demo computed. */
  async watchMetersFill(customers: Customer[]): Promise<void> {
    this.step(
      'Watch the meters fill as ingestion meters the records (GET /meters/{id}); expected: ' +
        customers.map((c) => `${c.name} ${minutes(c.tenths)}`).join(' · '),
    );
    let last = '';
    const views = await this.poll(30_000, async () => {
      const current = await Promise.all(customers.map((c) => this.meter(c)));
      const line = current
        .map(
          (view, i) =>
            `${customers[i]?.name} ${view.value ?? 0} (${view.meterMetaData.recordCount})`,
        )
        .join(' · ');
      if (line !== last) this.#log(`   … ${line}`);
      last = line;
      const done = current.every(
        (view, i) =>
          tenthsOf(view.value ?? 0) >= (customers[i]?.tenths ?? 0) &&
          view.meterMetaData.recordCount >= (customers[i]?.records ?? 0),
      );
      return done ? current : undefined;
    });
    if (!views) throw new DemoStepError(`the meters did not reach their totals in 30 s: ${last}`);
    customers.forEach((customer, i) => {
      const view = views[i] as MeterView;
      customer.meter = view;
      const byRegion = Object.fromEntries(
        view.groups.map((group) => [String(group.fields.region), tenthsOf(group.value ?? 0)]),
      );
      if (
        tenthsOf(view.value ?? 0) !== customer.tenths ||
        view.meterMetaData.recordCount !== customer.records ||
        JSON.stringify(sortKeys(byRegion)) !== JSON.stringify(sortKeys(customer.tenthsByRegion))
      ) {
        throw new DemoStepError(
          `${customer.userId}: meter holds ${view.value} from ${view.meterMetaData.recordCount} records, by region ${JSON.stringify(byRegion)}; expected ${minutes(customer.tenths)} from ${customer.records}, ${JSON.stringify(customer.tenthsByRegion)} (tenths)`,
        );
      }
      const regions = view.groups
        .map((group) => `${group.fields.region} ${group.value} (${group.count})`)
        .join(', ');
      this.pass(
        `${customer.userId}: ${view.value} minutes from ${customer.records} records, exactly as computed; by region ${regions}`,
      );
    });
  }

  /** Step: the threshold fired a partial record for every customer above it, and no other. */
  async findPartialPush(customers: Customer[]): Promise<void> {
    const above = customers.filter((c) => c.tenths >= THRESHOLD.value * 10);
    this.step(
      `Find the partial push: crossing ${THRESHOLD.value} minutes sends a partial record at once (expected for ${above.map((c) => c.name).join(', ') || 'nobody'}).`,
    );
    // The threshold fires in a write of its own right after the one that crossed it, so a
    // meter read in between holds the new value and no threshold yet: read until they agree.
    const agrees = (customer: Customer, view: MeterView) =>
      view.thresholdsReached.includes(THRESHOLD.name) === above.includes(customer);
    const views = await this.poll(15_000, async () => {
      const current = await Promise.all(customers.map((c) => this.meter(c)));
      return current.every((view, i) => agrees(customers[i] as Customer, view))
        ? current
        : undefined;
    });
    for (const [i, customer] of customers.entries()) {
      const view = views?.[i] ?? (await this.meter(customer));
      if (!agrees(customer, view)) {
        throw new DemoStepError(
          `${customer.userId}: thresholdsReached is ${JSON.stringify(view.thresholdsReached)} after 15 s`,
        );
      }
    }
    const ids = new Set(customers.map((c) => c.meter?.id));
    const partials = await this.poll(15_000, async () => {
      const found = (await this.#records.all()).filter(
        (r) => r.recordType === 'partial' && ids.has(r.id),
      );
      return found.length >= above.length ? found : undefined;
    });
    if (!partials) {
      throw new DemoStepError(
        `no partial record in ${this.#records.path} after 15 s: is the stack writing there? (set RECORDS_FILE)`,
      );
    }
    for (const customer of customers) {
      const mine = partials.filter((r) => r.id === customer.meter?.id);
      if (!above.includes(customer)) {
        if (mine.length > 0)
          throw new DemoStepError(`unexpected partial record for ${customer.userId}`);
        continue;
      }
      const record = mine[0];
      if (
        mine.length !== 1 ||
        !record ||
        record.threshold !== THRESHOLD.name ||
        Number(record.value) < THRESHOLD.value ||
        record.periodStart !== customer.meter?.periodStart
      ) {
        throw new DemoStepError(`${customer.userId}: partial records ${JSON.stringify(mine)}`);
      }
      this.pass(
        `partial record for ${customer.userId}: threshold '${record.threshold}' reached at ${record.value} minutes (recordId ${record.recordId})`,
      );
    }
  }

  /** Step: a record nobody has a meter for goes to data correction; a re-sent one is ignored. */
  async sendToDataCorrection(customers: Customer[], events: UsageEvent[]): Promise<void> {
    const stranger = `mallory-${this.#runId}`;
    const original = events[0] as UsageEvent;
    this.step(
      `Put a record for ${stranger}, who has no meter, and re-send record ${original.eventId}: the first cannot be metered, the second is a duplicate.`,
    );
    // One partition key keeps the two in order on one shard: the duplicate is handled first.
    const key = `demo-${this.#runId}`;
    await this.putRecords([
      { event: original, key },
      { event: { ...original, userId: stranger, eventId: `${this.#runId}-stranger` }, key },
    ]);
    const entry = await this.poll(30_000, async () => {
      for (let nextToken: string | undefined, first = true; first || nextToken; first = false) {
        const query = new URLSearchParams({ reason: 'NO_METER', limit: '100' });
        if (nextToken) query.set('nextToken', nextToken);
        const response = await this.http('GET', `/corrections?${query}`);
        this.expectStatus(response, 200);
        const page = response.body as { corrections: DataCorrection[]; nextToken?: string };
        const match = page.corrections.find((c) => c.userId === stranger);
        if (match) return match;
        nextToken = page.nextToken;
      }
      return undefined;
    });
    if (!entry) throw new DemoStepError(`no NO_METER correction for ${stranger} after 30 s`);
    const data = JSON.parse(Buffer.from(entry.data, 'base64').toString('utf8')) as UsageEvent;
    if (data.userId !== stranger)
      throw new DemoStepError(`the entry holds ${JSON.stringify(data)}`);
    this.pass(`GET /corrections?reason=NO_METER → ${entry.reason}: ${entry.message}`);
    this.pass(
      `the entry keeps the original bytes for POST /corrections/${entry.id}/reprocess once a meter exists`,
    );
    const owner = customers.find((c) => c.userId === original.userId) as Customer;
    const view = await this.meter(owner);
    if (
      tenthsOf(view.value ?? 0) !== owner.tenths ||
      view.meterMetaData.recordCount !== owner.records
    ) {
      throw new DemoStepError(
        `the duplicate was counted: ${owner.userId} holds ${view.value} from ${view.meterMetaData.recordCount} records`,
      );
    }
    this.pass(
      `the re-sent ${original.eventId} was recognised by its eventId: ${owner.userId} still holds ${view.value} minutes from ${owner.records} records`,
    );
  }

  /** Step: at the period end each meter sends a final record with exactly its total. */
  async awaitFinalRecords(customers: Customer[]): Promise<void> {
    const periodEnd = customers[0]?.meter?.periodEnd ?? '';
    const wait = Math.max(0, Date.parse(periodEnd) - Date.now());
    this.step(
      `Wait for the period to end at ${clock(periodEnd)} UTC (${Math.ceil(wait / 1000)} s): each meter then sends a final record with its total.`,
    );
    const ids = new Map(customers.map((c) => [c.meter?.id ?? '', c]));
    const seen = new Set<string>();
    const totals = new Map<string, { tenths: number; records: number }>();
    const deadline = Date.parse(periodEnd) + FINAL_RECORD_SLACK_MS - Date.now();
    const complete = await this.poll(deadline, async () => {
      for (const record of await this.#records.all()) {
        const customer = ids.get(record.id);
        if (record.recordType !== 'final' || !customer || seen.has(record.recordId)) continue;
        seen.add(record.recordId);
        const sum = totals.get(record.id) ?? { tenths: 0, records: 0 };
        sum.tenths += tenthsOf(record.value);
        sum.records += record.meterMetaData.recordCount;
        totals.set(record.id, sum);
        this.#log(
          `   … final record for ${record.userId}: ${clock(record.periodStart)} → ${clock(record.periodEnd)}, ${record.value} ${record.unit} from ${record.meterMetaData.recordCount} records`,
        );
      }
      return customers.every((c) => (totals.get(c.meter?.id ?? '')?.tenths ?? 0) >= c.tenths)
        ? true
        : undefined;
    });
    if (!complete) {
      throw new DemoStepError(
        `the final records did not arrive within ${FINAL_RECORD_SLACK_MS / 1000} s of the period end (sums: ${JSON.stringify(Object.fromEntries(totals))})`,
      );
    }
    for (const customer of customers) {
      const sum = totals.get(customer.meter?.id ?? '');
      if (sum?.tenths !== customer.tenths || sum.records !== customer.records) {
        throw new DemoStepError(
          `${customer.userId}: final records add up to ${minutes(sum?.tenths ?? 0)} from ${sum?.records} records; expected ${minutes(customer.tenths)} from ${customer.records}`,
        );
      }
      this.pass(
        `${customer.userId}: final records add up to ${minutes(customer.tenths)} minutes from ${customer.records} records, as computed`,
      );
    }
  }

  /** Step: the meters are gone after their reset, and the meter type can be deleted. */
  async cleanUp(type: MeterType, customers: Customer[]): Promise<void> {
    this.step('Clean up: the meters deleted themselves at the reset; delete the meter type.');
    const gone = await this.poll(15_000, async () => {
      const statuses = await Promise.all(
        customers.map(async (c) => (await this.http('GET', `/meters/${c.meter?.id}`)).status),
      );
      return statuses.every((status) => status === 404) ? true : undefined;
    });
    if (!gone) throw new DemoStepError('the meters were still there 15 s after their reset');
    this.pass('GET /meters/{id} → 404 for all three (deleteOnReset)');
    const deleted = await this.poll(15_000, async () => {
      const response = await this.http('DELETE', `/meter-types/${type.id}`);
      if (response.status === 409) return undefined;
      this.expectStatus(response, 204);
      return true;
    });
    if (!deleted) throw new DemoStepError(`meter type ${type.id} still had meters after 15 s`);
    this.pass(`DELETE /meter-types/${type.id} → 204`);
  }

  // -- helpers ----------------------------------------------------------------------------------

  private step(text: string): void {
    this.#step += 1;
    this.#log(`${this.#step === 1 ? '' : '\n'}${this.#step}. ${text}`);
  }

  private pass(text: string): void {
    this.#log(`   ✔ ${text}`);
  }

  private async meter(customer: Customer): Promise<MeterView> {
    const response = await this.http('GET', `/meters/${customer.meter?.id}`);
    this.expectStatus(response, 200);
    return response.body as MeterView;
  }

  /** Puts events in chunks of at most 500, re-sending any entry Kinesis did not accept. */
  private async putRecords(items: { event: UsageEvent; key: string }[]): Promise<number> {
    let calls = 0;
    for (let start = 0; start < items.length; start += PUT_RECORDS_MAX) {
      let pending = items.slice(start, start + PUT_RECORDS_MAX);
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > 5) throw new DemoStepError(`Kinesis kept refusing ${pending.length} records`);
        calls += 1;
        const result = await this.#kinesis.send(
          new PutRecordsCommand({
            StreamName: this.#streamName,
            Records: pending.map(({ event, key }) => ({
              Data: new TextEncoder().encode(JSON.stringify(event)),
              PartitionKey: key,
            })),
          }),
        );
        pending = pending.filter((_, i) => result.Records?.[i]?.ErrorCode !== undefined);
        if (pending.length > 0) await sleep(200 * attempt);
      }
    }
    return calls;
  }

  /** Calls `probe` until it returns a value, or `timeoutMs` passes (then `undefined`). */
  private async poll<T>(
    timeoutMs: number,
    probe: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() >= deadline) return undefined;
      await sleep(POLL_MS);
    }
  }

  private async http(method: string, path: string, body?: unknown): Promise<HttpResult> {
    const response = await fetch(`${this.#api}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  }

  private expectStatus(response: HttpResult, status: number): void {
    if (response.status !== status) {
      throw new DemoStepError(
        `expected HTTP ${status}, got ${response.status}: ${JSON.stringify(response.body)}`,
      );
    }
  }
}

interface HttpResult {
  status: number;
  headers: Headers;
  body: unknown;
}

interface StreamSummary {
  name: string;
  meterKey: string;
  guidingRules: { name: string; category: string; groupBy: string[] }[];
  deduplication: { enabled: boolean };
}

/** Reads the metered records appended to the records file since the demo started. */
class RecordsTail {
  #offset = 0;
  readonly #records: MeteredRecord[] = [];

  constructor(readonly path: string) {}

  /** Records already in the file belong to earlier runs. */
  async skipExisting(): Promise<void> {
    this.#offset = await stat(this.path).then(
      (s) => s.size,
      () => 0,
    );
  }

  /** Every record appended since, reading only what is new. */
  async all(): Promise<MeteredRecord[]> {
    const file = await open(this.path, 'r').catch(() => undefined);
    if (!file) return this.#records;
    try {
      const { size } = await file.stat();
      if (size < this.#offset) this.#offset = 0;
      if (size === this.#offset) return this.#records;
      const buffer = Buffer.alloc(size - this.#offset);
      await file.read(buffer, 0, buffer.length, this.#offset);
      // A record still being appended has no newline yet: leave it for the next read.
      const end = buffer.lastIndexOf(0x0a);
      if (end < 0) return this.#records;
      for (const line of buffer.subarray(0, end).toString('utf8').split('\n')) {
        if (line.trim()) this.#records.push(JSON.parse(line) as MeteredRecord);
      }
      this.#offset += end + 1;
      return this.#records;
    } finally {
      await file.close();
    }
  }
}

function sortKeys(value: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
