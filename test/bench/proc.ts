import * as fs from 'node:fs';
import * as os from 'node:os';
import { execFileSync } from 'node:child_process';

/** Linux /proc readings of the contenders: CPU time and resident memory. */

let ticks: number | undefined;
/** Clock ticks per second (getconf CLK_TCK; 100 on nearly every Linux). */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of a process in milliseconds, or NaN when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
  } catch {
    return NaN;
  }
}

/** Resident set size in bytes (VmRSS), or NaN when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Sums over several pids (a group of processes counted as one forwarder). */
export const sumCpuMs = (pids: readonly number[]): number => pids.reduce((a, p) => a + cpuMs(p), 0);
export const sumRssBytes = (pids: readonly number[]): number => pids.reduce((a, p) => a + rssBytes(p), 0);

/** CPU used by `pids` while `run` ran, next to its result. */
export async function measured<T>(pids: readonly number[], run: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const before = sumCpuMs(pids);
  const value = await run();
  return { value, cpuMs: sumCpuMs(pids) - before };
}

/** What else was running: the 1-minute load average and the busiest other processes. */
export function machineLoad(): { loadavg: number[]; cpus: number; memGiB: number } {
  return { loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) };
}
