// npm run build (and npm's prepare, so `npm pack`, a git-URL install and `npm install` in the checkout
// all get it): src/ compiled to dist/ (ESM, source maps with their sources, .d.ts), and Chart.js's
// UMD build copied beside the lab's report module, so chart.js is no runtime dependency of herd.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
const chartEntry = fileURLToPath(import.meta.resolve('chart.js'));
fs.copyFileSync(path.join(path.dirname(chartEntry), 'chart.umd.js'), path.join(dist, 'lab/chart.umd.js'));
