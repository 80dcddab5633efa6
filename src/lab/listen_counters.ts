// Listen-queue overflows, machine-wide: TcpExt ListenOverflows and ListenDrops from /proc/net/netstat,
// the counters `netstat -s | grep -i listen` prints. They count per network namespace, so a cell's
// figure is the delta across its run (anything else listening on this machine adds to it).
import fs from 'node:fs';

export interface ListenCounters {
  /** Times a SYN or a completed handshake found the accept queue full. */
  listenOverflows: number;
  /** SYNs to LISTEN sockets dropped, for any reason (overflows included). */
  listenDrops: number;
}

/**
 * Parses /proc/net/netstat (or /proc/net/snmp): pairs of lines `Prefix: names...` / `Prefix: values...`.
 * Returns prefix → counter name → value.
 */
export function parseNetstat(text: string): Map<string, Map<string, number>> {
  const tables = new Map<string, Map<string, number>>();
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i].trim().split(/\s+/);
    const values = lines[i + 1].trim().split(/\s+/);
    const prefix = names[0];
    if (!prefix || !prefix.endsWith(':') || values[0] !== prefix || names.length !== values.length) continue;
    const table = new Map<string, number>();
    for (let k = 1; k < names.length; k++) table.set(names[k], Number(values[k]));
    tables.set(prefix.slice(0, -1), table);
  }
  return tables;
}

export function listenCountersFrom(text: string): ListenCounters {
  const tcpExt = parseNetstat(text).get('TcpExt');
  if (!tcpExt) throw new Error('no TcpExt section in /proc/net/netstat');
  return { listenOverflows: tcpExt.get('ListenOverflows') ?? 0, listenDrops: tcpExt.get('ListenDrops') ?? 0 };
}

export function readListenCounters(path = '/proc/net/netstat'): ListenCounters {
  return listenCountersFrom(fs.readFileSync(path, 'utf8'));
}

export function listenCountersDelta(before: ListenCounters, after: ListenCounters): ListenCounters {
  return {
    listenOverflows: after.listenOverflows - before.listenOverflows,
    listenDrops: after.listenDrops - before.listenDrops,
  };
}
