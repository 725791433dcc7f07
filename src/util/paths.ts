/** Where the package's own files are, independent of the working directory. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder with package.json), from src/ or from dist/src/. */
export const PACKAGE_ROOT: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('poselift: cannot find the package root (package.json) above ' + fileURLToPath(import.meta.url));
})();

/** Bundled models: $POSELIFT_MODELS or <package>/models. */
export function defaultModelsDir(): string {
  return process.env.POSELIFT_MODELS ?? path.join(PACKAGE_ROOT, 'models');
}

/** A data set beside the project: $POSELIFT_DATA/<name> or <package>/../shared/data/<name>. */
export function defaultDataDir(name: string): string {
  return path.join(process.env.POSELIFT_DATA ?? path.join(PACKAGE_ROOT, '..', 'shared', 'data'), name);
}
