// herd runs as TypeScript sources in its checkout (Node strips the types) and as compiled JavaScript
// in dist/ when installed from npm (Node refuses to strip types under node_modules). A module that
// starts another one in a new process or thread (a worker, logd, a load thread) names it here, so
// the checkout starts the .ts file beside it and the package the .js file beside it.
const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** The file `relative` (written without extension) resolved against the caller's `import.meta.url`. */
export function siblingModule(relative: string, from: string): URL {
  return new URL(relative + EXTENSION, from);
}
