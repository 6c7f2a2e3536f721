/** zod's core API with `locales` shadowed; see zod-lean.ts. */
export * from '../../node_modules/zod/v4/core/index.js';

/** Shadows zod's namespace of every locale; an explicit export wins over `export *`. */
export const locales = undefined;
