import { benchStreams, decodeOnly, memoryIngest, ShardSequence } from './harness.js';
import { buildBatches } from './ingest-bench.js';
const streams = benchStreams(false);
const m = memoryIngest(streams);
const users = Array.from({ length: 100 }, (_, i) => `user-${i}`);
m.createMeters(users);
const shard = new ShardSequence('shardId-000000000000');
for (let round = 0; round < 8; round++) {
  const { events } = buildBatches(users, 20, 1000, shard);
  const t0 = process.cpuUsage();
  for (const e of events) await m.handler(e);
  const t = process.cpuUsage(t0);
  const d0 = process.cpuUsage();
  for (const e of events) decodeOnly(e);
  const d = process.cpuUsage(d0);
  if (round > 2) console.log('handler us/record', ((t.user + t.system) / 20000).toFixed(2), 'decode', ((d.user + d.system) / 20000).toFixed(2));
}
