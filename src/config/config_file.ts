// A serve configuration file: JSON, or a JS module whose default export is the object (loaded with
// require(), which takes ES modules too, so parsing the flags stays synchronous). Keys are the
// flag names; relative paths in it are resolved against the working directory, as flags are.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UsageError } from '../errors.ts';

/** Looked for, in this order, in the working directory when no --config is given. */
export const CONFIG_FILE_NAMES = ['herd.config.json', 'herd.config.js', 'herd.config.mjs', 'herd.config.cjs'];

export function findConfigFile(cwd: string): string | null {
  for (const name of CONFIG_FILE_NAMES) {
    const file = path.join(cwd, name);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

export function readConfigFile(given: string, cwd: string): { path: string; values: Record<string, unknown> } {
  const file = path.resolve(cwd, given);
  let loaded: unknown;
  if (file.endsWith('.json')) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`config file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    try {
      loaded = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
    }
  } else if (/\.[cm]?js$/.test(file)) {
    if (!fs.existsSync(file)) throw new UsageError(`config file ${file}: no such file`);
    try {
      const module = createRequire(import.meta.url)(file) as { default?: unknown; __esModule?: boolean };
      loaded = module && typeof module === 'object' && 'default' in module ? module.default : module;
    } catch (err) {
      const first = (err as Error).message.split('\n')[0];
      throw new UsageError(`config file ${file} could not be loaded: ${first}`);
    }
  } else {
    throw new UsageError(`config file ${file}: must end in .json, .js, .mjs or .cjs`);
  }
  if (loaded === null || typeof loaded !== 'object' || Array.isArray(loaded)) {
    throw new UsageError(`config file ${file} must hold an object of serve options ({"port": 8080, "workers": 4, ...})`);
  }
  return { path: file, values: loaded as Record<string, unknown> };
}
