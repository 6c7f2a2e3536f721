/**
 * `npm run openapi`: writes the API's OpenAPI 3.1 document to `shared/http/openapi.json`.
 * `npm run openapi -- --check` writes nothing and exits 1 when the committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderOpenApiDocument } from '../shared/http/openapi.js';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const target = fileURLToPath(new URL('../shared/http/openapi.json', import.meta.url));
const fresh = renderOpenApiDocument();

function committed(): string | undefined {
  try {
    return readFileSync(target, 'utf8');
  } catch {
    return undefined;
  }
}

if (values.check) {
  if (committed() !== fresh) {
    console.error(`${target} is stale: run \`npm run openapi\` and commit the result`);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else if (committed() === fresh) {
  console.log(`${target} is up to date`);
} else {
  writeFileSync(target, fresh);
  console.log(`wrote ${target}`);
}
