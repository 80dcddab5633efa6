// node's cluster running express_listen.js in WORKERS workers (round-robin, node's default on Linux).
import cluster from 'node:cluster';

if (cluster.isPrimary) {
  for (let i = 0; i < Number(process.env.WORKERS ?? 2); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  await import('./express_listen.js');
}
