/**
 * `npm run demo`: a guided tour of a running local stack (`npm start` in another terminal).
 * Settings: API_URL (default http://127.0.0.1:$PORT/usage-metering/v1, PORT 3000),
 * KINESIS_ENDPOINT (default http://127.0.0.1:$KINESIS_PORT, KINESIS_PORT 4567), RECORDS_FILE
 * (default .local/metered-records.jsonl). Exits 0 only if every step saw what it expected.
 */
import { z } from 'zod';
import { DEFAULT_RECORDS_FILE } from '../shared/local/local-stack.js';
import { runDemo } from './demo-steps.js';

// On Node 20 the AWS SDK prints a multi-line note (it needs Node 22 from 2027) in the middle of
// this program's output; the README says it once instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const port = z.coerce.number().int().min(1).max(65_535);
const settings = z
  .object({
    PORT: port.default(3000),
    KINESIS_PORT: port.default(4567),
    API_URL: z.url().optional(),
    KINESIS_ENDPOINT: z.url().optional(),
    RECORDS_FILE: z.string().min(1).default(DEFAULT_RECORDS_FILE),
  })
  .safeParse(process.env);
if (!settings.success) {
  console.error(`invalid settings: ${z.prettifyError(settings.error)}`);
  process.exit(2);
}
const env = settings.data;

const ok = await runDemo({
  apiUrl: env.API_URL ?? `http://127.0.0.1:${env.PORT}/usage-metering/v1`,
  kinesisEndpoint: env.KINESIS_ENDPOINT ?? `http://127.0.0.1:${env.KINESIS_PORT}`,
  recordsFile: env.RECORDS_FILE,
});
process.exit(ok ? 0 : 1);
