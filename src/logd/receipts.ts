// Delivery receipts: what herd's logd writes back on each client socket, so that a client can keep
// every record until it is in the file and, after logd died, resend exactly the records that did not
// make it. squid's daemon never writes back; a squid-protocol writer can ignore these lines.
//
//   H<epoch> <ino> <size>\n   (greeting) the access log was inode <ino> of <size> bytes when the daemon
//                             after <epoch> started: every write of <epoch> ended at or before <size>
//   E<epoch>\n                (greeting, last line) this daemon's epoch; 0 for the first, +1 per respawn
//   P<wire> <ino> <from> <to>\n  the client's bytes up to <wire> on this connection are being written
//                             as bytes [<from>, <to>) of inode <ino> (0: not a regular file)
//   A<wire>\n                 the client's bytes up to <wire> on this connection are in the file
//
// The guarantee this gives is stated in client.ts: exactly once across logd deaths, except in
// corners where a record's fate is unknown and it is resent rather than lost.

/** The access log as a daemon found it when it started. */
export interface EpochStart {
  epoch: number;
  ino: number;
  size: number;
}

export type Receipt =
  | { kind: 'horizon'; epoch: number; ino: number; size: number }
  | { kind: 'epoch'; epoch: number }
  | { kind: 'announce'; wire: number; ino: number; from: number; to: number }
  | { kind: 'ack'; wire: number };

/**
 * The horizons a daemon of `epoch` announces: for every earlier epoch, the access log as the first
 * later daemon found it. Nothing that earlier daemon wrote lies beyond that size.
 */
export function horizons(epoch: number, starts: readonly EpochStart[]): EpochStart[] {
  const sorted = [...starts].sort((a, b) => a.epoch - b.epoch);
  const out: EpochStart[] = [];
  for (let e = 0; e < epoch; e++) {
    const after = sorted.find((s) => s.epoch > e);
    if (after) out.push({ epoch: e, ino: after.ino, size: after.size });
  }
  return out;
}

export function encodeGreeting(epoch: number, known: readonly EpochStart[]): string {
  let text = '';
  for (const h of known) text += `H${h.epoch} ${h.ino} ${h.size}\n`;
  return `${text}E${epoch}\n`;
}

export function encodeAnnounce(wire: number, ino: number, from: number, to: number): string {
  return `P${wire} ${ino} ${from} ${to}\n`;
}

export function encodeAck(wire: number): string {
  return `A${wire}\n`;
}

/** Splits the receipt stream into receipts. Low volume (a few per batch), so plain strings do. */
export class ReceiptParser {
  private rest = '';
  private readonly onReceipt: (receipt: Receipt) => void;

  constructor(onReceipt: (receipt: Receipt) => void) {
    this.onReceipt = onReceipt;
  }

  push(chunk: Buffer): void {
    const text = this.rest + chunk.toString('latin1');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const receipt = parseReceipt(text.slice(start, nl));
      start = nl + 1;
      if (receipt) this.onReceipt(receipt);
    }
    this.rest = text.slice(start);
  }
}

function parseReceipt(line: string): Receipt | undefined {
  const f = line.slice(1).split(' ').map(Number);
  if (f.some((n) => !Number.isSafeInteger(n))) return undefined;
  switch (line[0]) {
    case 'H':
      return f.length === 3 ? { kind: 'horizon', epoch: f[0]!, ino: f[1]!, size: f[2]! } : undefined;
    case 'E':
      return f.length === 1 ? { kind: 'epoch', epoch: f[0]! } : undefined;
    case 'P':
      return f.length === 4 ? { kind: 'announce', wire: f[0]!, ino: f[1]!, from: f[2]!, to: f[3]! } : undefined;
    case 'A':
      return f.length === 1 ? { kind: 'ack', wire: f[0]! } : undefined;
    default:
      return undefined;
  }
}

/**
 * How many bytes of `wire[start, end)` (whole L lines) produced the first `fileBytes` bytes of their
 * file segment: each L line of n bytes puts n - 1 bytes (all but the L) in the file. Stops at the last
 * whole line that fits, so a line is never counted as written when only part of it is.
 */
export function wireBytesForFileBytes(wire: Buffer, start: number, end: number, fileBytes: number): number {
  let pos = start;
  let file = 0;
  while (pos < end) {
    const newline = wire.indexOf(0x0a, pos);
    if (newline === -1 || newline >= end) break;
    const lineFile = newline - pos; // newline + 1 - pos wire bytes, minus the L
    if (file + lineFile > fileBytes) break;
    file += lineFile;
    pos = newline + 1;
  }
  return pos - start;
}
