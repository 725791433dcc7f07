/** Shared test paths: the repository root and the research data beside it (never inside the repo). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DATA = process.env.POSELIFT_DATA ?? path.resolve(REPO, '../shared/data');
export const MODELS = path.join(REPO, 'models');
export const CLI = path.join(REPO, 'bin', 'poselift.js');

/** Debian's Chromium, driven by playwright-core for the browser tests (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * The browser tests' `skip`: false when Chromium is there. Without it they are skipped on a developer's
 * machine, but under CI=true (where .ci/run installs it) they run and fail, so a CI without a browser is red.
 */
export function chromiumSkip(): false | string {
  if (fs.existsSync(CHROMIUM) || process.env.CI === 'true') return false;
  return `${CHROMIUM} is missing (Debian: apt-get install -y chromium)`;
}

/** Throws one clear line unless Chromium is installed (the browser tests' first step). */
export function requireChromium(): void {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's chromium (apt-get install -y chromium; .ci/run installs it)`);
}
