// Entry of a --threads worker: runs its LoadLoop and posts the ThreadResult back.
import { parentPort, workerData } from 'node:worker_threads';
import { LoadLoop } from './load_loop.ts';
import type { LoadPlan } from './plan.ts';

const { plan, live } = workerData as { plan: LoadPlan; live: Float64Array };
const result = await new LoadLoop(plan, live).run();
parentPort!.postMessage(result);
