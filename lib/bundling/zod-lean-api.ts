/** zod's classic API with `locales` (and `core.locales`) shadowed; see zod-lean.ts. */
// A path, not the package name: the `zod` alias would otherwise point back at zod-lean.ts.
export * from '../../node_modules/zod/v4/classic/external.js';
export * as core from './zod-lean-core.js';

/** Shadows zod's namespace of every locale; an explicit export wins over `export *`. */
export const locales = undefined;
