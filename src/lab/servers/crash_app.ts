// The lab's 'Hello, World!' with two ways to crash on purpose, so the threads model and the process
// pool can be crashed the same way and compared:
//   GET /crash  answers, then throws an uncaught exception in its event loop (a bug in JS code);
//   GET /segv   sends the process SIGSEGV (what a bug in a native addon does to every thread of it).
// Served by herd serve as an APP (engine fast) and by the threads server's loops.
const body = 'Hello, World!';

export default function crashApp(
  req: { url?: string },
  res: { setHeader(name: string, value: string): unknown; end(chunk: string): unknown },
): void {
  res.setHeader('Content-Type', 'text/plain');
  res.end(body);
  if (req.url === '/crash') {
    setImmediate(() => {
      throw new Error('herd lab: a crash on purpose (GET /crash)');
    });
  } else if (req.url === '/segv') {
    setImmediate(() => process.kill(process.pid, 'SIGSEGV'));
  }
}
