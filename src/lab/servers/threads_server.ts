// The threads model (muduo's "one loop per thread"): one process, N worker_threads, each its own
// event loop and its own SO_REUSEPORT socket with herd's fast engine. The main thread serves nothing;
// like a supervisor it starts the loops and starts a new one when a loop dies of an uncaught exception
// (a worker_thread's uncaught exception ends that thread only; a fatal signal ends the process).
// Usage: node threads_server.ts --port P --threads N [--host H]
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { siblingModule } from '../../source_module.ts';
import type { LoopData } from './threads_loop.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    threads: { type: 'string', default: '2' },
  },
});

const LOOP = siblingModule('./threads_loop', import.meta.url);
const RESPAWN_DELAY_MS = 100;
const count = Number(values.threads);
const data: LoopData = { host: values.host!, port: Number(values.port) };
let listening = 0;
let stopping = false;

/** Thread names show in /proc/<pid>/task/<tid>/comm: the lab finds the loops' threads by them. */
function startLoop(index: number): void {
  const loop = new Worker(LOOP, { workerData: data, name: `herd-loop-${index}` });
  loop.on('message', (message: { t: string }) => {
    if (message.t !== 'listening' || ++listening !== count) return;
    console.log(`threads server listening on http://${data.host}:${data.port} with ${count} loops`);
  });
  loop.on('error', (err) => console.error(`loop ${index} died: ${err.message}`));
  loop.on('exit', () => {
    if (stopping) return;
    setTimeout(() => startLoop(index), RESPAWN_DELAY_MS);
  });
}

for (let i = 1; i <= count; i++) startLoop(i);
process.on('SIGTERM', () => {
  stopping = true;
  process.exit(0);
});
