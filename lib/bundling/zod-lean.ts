/**
 * What the Lambda bundles get when the code imports `zod`: all of zod's classic API, without
 * the 40-odd translated error-message locales (about a third of every bundle). esbuild cannot
 * tree-shake them out of `import { z } from 'zod'`, because `z` is re-exported as a namespace
 * value. Error messages stay English: zod's schemas install the `en` locale themselves.
 *
 * Only esbuild sees this file (`--alias:zod=...` in MeteringFunction); type checking and the
 * tests use the real package. test/infra/bundles.test.ts loads every bundle and runs zod in it.
 */
export * from './zod-lean-api.js';
export * as z from './zod-lean-api.js';
