// The built-in app: what `herd serve` runs without APP. Portable, so it runs on both engines.
const body = 'Hello, World!';

export default function hello(
  _req: unknown,
  res: { setHeader(name: string, value: string): unknown; end(chunk: string): unknown },
): void {
  res.setHeader('Content-Type', 'text/plain');
  res.end(body);
}
