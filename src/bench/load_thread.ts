// Entry of a --threads worker: loads, says it is ready, runs its LoadLoop when told to go (so all
// threads start loading together) and posts the ThreadResult back.
import { parentPort, workerData } from 'node:worker_threads';
import { LoadLoop } from './load_loop.ts';
import type { LoadPlan, ThreadMessage } from './plan.ts';

const { plan, live } = workerData as { plan: LoadPlan; live: Float64Array };
const port = parentPort!;
const post = (message: ThreadMessage): void => port.postMessage(message);
port.once('message', async () => post({ t: 'result', result: await new LoadLoop(plan, live).run() }));
post({ t: 'ready' });
