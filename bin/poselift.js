#!/usr/bin/env node
// Entry point of the `poselift` command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('poselift: the compiled CLI is missing (dist/); run `npm run build` in the poselift folder\n');
  process.exit(1);
}
const { run } = await import(main.href);
await run(process.argv);
