// The fast engine's longer fuzz run (the test suite runs 2000): mutated corpus requests against an
// in-process fast engine, or against a running server with --port. Prints the status mix and every
// invalid reply or hung connection; exits 1 if there was any.
//   node scripts/fuzz-http.ts [--count 50000] [--seed N] [--port P]
import net from 'node:net';
import { parseArgs } from 'node:util';
import { createFastEngine } from '../src/http/engine.ts';
import portableApp from '../test/http/fixtures/portable_app.ts';
import { fuzz } from '../test/http/fuzz.ts';
import { TEST_OPTIONS } from '../test/http/wire.ts';

const { values } = parseArgs({ options: { count: { type: 'string' }, seed: { type: 'string' }, port: { type: 'string' } } });
const count = Number(values.count ?? 50_000);
const seed = Number(values.seed ?? Date.now() % 0x7fffffff);

let port = values.port === undefined ? 0 : Number(values.port);
const engine = port === 0 ? createFastEngine(portableApp, { ...TEST_OPTIONS, headersTimeoutMs: 2000, requestTimeoutMs: 2000 }) : null;
if (engine) {
  await new Promise<void>((resolve) => engine.server.listen(0, '127.0.0.1', resolve));
  port = (engine.server.address() as net.AddressInfo).port;
}
const started = Date.now();
const report = await fuzz(port, count, seed);
console.log(`fuzz-http: ${report.sent} requests, seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`statuses: ${[...report.statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}`);
for (const bad of report.invalid.slice(0, 20)) console.log(`INVALID REPLY (${bad.error}) to ${JSON.stringify(bad.input)}: ${JSON.stringify(bad.reply.slice(0, 300))}`);
for (const input of report.hung.slice(0, 20)) console.log(`HUNG: ${JSON.stringify(input)}`);
console.log(`invalid replies: ${report.invalid.length}, hung connections: ${report.hung.length}`);
if (engine) {
  engine.destroyAll();
  engine.server.close();
}
process.exitCode = report.invalid.length + report.hung.length > 0 ? 1 : 0;
