/** `npm run console:build`: builds the console into console/dist and prints its size. */
import { buildConsole, consoleSize } from './build-console.js';

const outDir = await buildConsole();
const { bytes, gzip } = consoleSize(outDir);
console.log(
  `console built in ${outDir}: ${(bytes / 1024).toFixed(1)} KiB, gzip ${(gzip / 1024).toFixed(1)} KiB`,
);
