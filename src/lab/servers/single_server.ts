// The `single` model: one event-loop process, no supervisor — herd's engine serving the built-in
// hello app on its own, the reference that every pool is compared with.
// Usage: node single_server.ts --port P --engine fast|node [--host H]
import type net from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../../config.ts';
import type { EngineOptions } from '../../worker/engine.ts';
import hello from '../../worker/hello.ts';
import { createNodeEngine } from '../../worker/node_engine.ts';
import { createFastEngine } from '../../http/engine.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    engine: { type: 'string', default: 'node' },
  },
});

const options: EngineOptions = {
  requestTimeoutMs: DEFAULTS.requestTimeoutMs,
  headersTimeoutMs: DEFAULTS.headersTimeoutMs,
  keepAliveTimeoutMs: DEFAULTS.keepAliveTimeoutMs,
  maxConnections: DEFAULTS.maxConnections,
  bodyLimit: DEFAULTS.bodyLimit,
};

const engine = values.engine === 'fast' ? createFastEngine(hello, options) : createNodeEngine(hello, options);
engine.server.listen({ port: Number(values.port), host: values.host, backlog: DEFAULTS.backlog }, () => {
  const port = (engine.server.address() as net.AddressInfo).port;
  console.log(`single ${values.engine} server listening on http://${values.host}:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
