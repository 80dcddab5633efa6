// npm run build (and npm's prepare, so `npm pack`, a git-URL install and `npm install` in the checkout
// all get it): src/ compiled to dist/ (ESM, source maps with their sources, .d.ts), and Chart.js's
// UMD build copied beside the lab's report module, so chart.js is no runtime dependency of herd.
//
// One rewrite of tsc's output: `import fs from 'node:fs'` becomes `const fs = process.getBuiltinModule('node:fs')`.
// To build an ES module namespace for a built-in, Node reads every export, and that runs the lazy getters
// behind them: fs.promises loads the promise API and web streams, http.WebSocket loads undici. The
// CommonJS object getBuiltinModule returns is the same object without that. Measured on Node 24 with
// `npm run bench:memory`: 2 to 3 MB of RSS less in each of the supervisor, the workers and logd (13 MB in
// a worker that loads node:http). The entry, cli/herd.js, keeps its imports: it must run on an old Node
// long enough to say that it is too old.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
const BUILTIN_DEFAULT = /^import (\w+) from '(node:[\w/]+)';$/gm;
const BUILTIN_NAMED = /^import \{([^}]*)\} from '(node:[\w/]+)';$/gm;
const ENTRY = path.join(dist, 'cli/herd.js');

for (const file of fs.readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
  const full = path.join(dist, file);
  if (!file.endsWith('.js') || full === ENTRY) continue;
  const source = fs.readFileSync(full, 'utf8');
  const rewritten = source
    .replace(BUILTIN_DEFAULT, "const $1 = process.getBuiltinModule('$2');")
    .replace(BUILTIN_NAMED, (_, names: string, id: string) => `const {${names.replace(/ as /g, ': ')}} = process.getBuiltinModule('${id}');`);
  if (/^import [^;]* from 'node:/m.test(rewritten)) throw new Error(`${file}: an import of a built-in module this build does not rewrite`);
  if (rewritten !== source) fs.writeFileSync(full, rewritten);
}

const chartEntry = fileURLToPath(import.meta.resolve('chart.js'));
fs.copyFileSync(path.join(path.dirname(chartEntry), 'chart.umd.js'), path.join(dist, 'lab/chart.umd.js'));
