// Mutation fuzzing of a running server: corpus requests mangled by a seeded generator, each sent on
// its own connection. Shared by the bounded test and the longer `scripts/fuzz-http.ts` run.
import { RequestParser, DEFAULT_LIMITS } from '../../src/http/parser.ts';
import type { ParseFailure, ParserSink } from '../../src/http/parser.ts';
import type { RequestHead } from '../../src/http/request_head.ts';
import { VALID, INVALID, TEST_BODY_LIMIT } from './corpus.ts';
import { exchange, parseResponses } from './wire.ts';

export interface FuzzReport {
  sent: number;
  /** Replies that are not a sequence of valid HTTP responses. */
  invalid: { input: string; reply: string; error: string }[];
  /** Connections the server did not close in time. */
  hung: string[];
  statuses: Map<number, number>;
}

/** xorshift32: the same seed gives the same inputs, so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const TOKENS = [
  '\r', '\n', '\r\n', '\r\n\r\n', '\0', ' ', '\t', ':', ',', ';', '\x7f', '\xff', '0', 'f', '-1', '99999999999999999',
  'chunked', 'Content-Length: 5\r\n', 'Transfer-Encoding: chunked\r\n', 'Expect: 100-continue\r\n', 'Host: x\r\n',
  'HTTP/1.0', 'HTTP/1.1', 'HEAD', 'Connection: close\r\n', ' \t', '%00', '../',
];

const BASES = [...VALID, ...INVALID].map((c) => c.raw).filter((raw) => raw.length < 4000);

export function mutate(next: () => number): string {
  const pick = (n: number) => Math.floor(next() * n);
  let s = BASES[pick(BASES.length)];
  const rounds = 1 + pick(4);
  for (let k = 0; k < rounds; k++) {
    const at = pick(s.length + 1);
    switch (pick(7)) {
      case 0: // replace a byte
        s = s.slice(0, at) + String.fromCharCode(pick(256)) + s.slice(at + 1);
        break;
      case 1: // insert a token
        s = s.slice(0, at) + TOKENS[pick(TOKENS.length)] + s.slice(at);
        break;
      case 2: // delete a range
        s = s.slice(0, at) + s.slice(at + 1 + pick(8));
        break;
      case 3: // duplicate a range
        s = s.slice(0, at + pick(20)) + s.slice(at);
        break;
      case 4: // truncate
        s = s.slice(0, at);
        break;
      case 5: // pipeline another request behind
        s += BASES[pick(BASES.length)];
        break;
      default: // change case of a byte
        s = s.slice(0, at) + (s[at] ?? '').toLowerCase() + s.slice(at + 1);
    }
  }
  return s;
}

/** The methods of the requests the server will answer, as its own parser reads them. */
function requestMethods(raw: Buffer): string[] {
  const methods: string[] = [];
  const sink: ParserSink = {
    onHead: (head: RequestHead) => void methods.push(head.method),
    onBody: () => {},
    onMessageEnd: () => {},
    onParseError: (_f: ParseFailure) => {},
  };
  new RequestParser(sink, { ...DEFAULT_LIMITS, bodyLimit: TEST_BODY_LIMIT }).execute(raw);
  return methods;
}

export async function fuzz(port: number, count: number, seed: number, concurrency = 16): Promise<FuzzReport> {
  const next = random(seed);
  const inputs = Array.from({ length: count }, () => mutate(next));
  const report: FuzzReport = { sent: 0, invalid: [], hung: [], statuses: new Map() };
  let index = 0;
  async function lane(): Promise<void> {
    while (index < inputs.length) {
      const input = inputs[index++];
      const raw = Buffer.from(input, 'latin1');
      report.sent++;
      let reply: Buffer;
      try {
        reply = await exchange(port, raw, { timeoutMs: 5000 });
      } catch {
        report.hung.push(input);
        continue;
      }
      try {
        for (const r of parseResponses(reply, requestMethods(raw))) report.statuses.set(r.status, (report.statuses.get(r.status) ?? 0) + 1);
      } catch (error) {
        report.invalid.push({ input, reply: reply.toString('latin1'), error: (error as Error).message });
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return report;
}
