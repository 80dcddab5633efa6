// The machine a lab run happened on, recorded beside every figure.
import fs from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** net.core.somaxconn: the ceiling on every listen backlog. */
  somaxconn: number | null;
  hostname: string;
}

function readNumber(file: string): number | null {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim());
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    somaxconn: readNumber('/proc/sys/net/core/somaxconn'),
    hostname: os.hostname(),
  };
}
