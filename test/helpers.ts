/** Shared test paths: the repository root and the research data beside it (never inside the repo). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DATA = process.env.POSELIFT_DATA ?? path.resolve(REPO, '../shared/data');
export const MODELS = path.join(REPO, 'models');
export const CLI = path.join(REPO, 'bin', 'poselift.js');
