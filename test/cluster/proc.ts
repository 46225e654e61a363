import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

export interface ProcessRecord {
  name: string;
  pid: number;
  exe: string;
  log: string;
}

/**
 * Starts a long-lived process in its own process group, detached from the caller, with its
 * output in `log`. The record is what `stop` needs later: only that PID and its group are killed.
 */
export function startDetached(name: string, exe: string, args: string[], log: string, env?: NodeJS.ProcessEnv): ProcessRecord {
  const fd = fs.openSync(log, 'a');
  const child = spawn(exe, args, { detached: true, stdio: ['ignore', fd, fd], env: env ?? process.env });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${exe})`);
  child.unref();
  return { name, pid: child.pid, exe, log };
}

/** True when `pid` is alive and still runs `exe` (so a recycled PID is never killed). */
export function isRunning(record: ProcessRecord): boolean {
  try {
    const target = fs.readlinkSync(`/proc/${record.pid}/exe`).replace(/ \(deleted\)$/, '');
    return target === fs.realpathSync(record.exe) || target === record.exe;
  } catch {
    return false;
  }
}

/** SIGTERM to the process group, then SIGKILL after `graceMs`. Resolves when it is gone. */
export async function stop(record: ProcessRecord, graceMs = 5000): Promise<void> {
  if (!isRunning(record)) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-record.pid, sig);
    } catch {
      try { process.kill(record.pid, sig); } catch { /* already gone */ }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(record) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isRunning(record)) {
    signal('SIGKILL');
    while (isRunning(record)) await new Promise((r) => setTimeout(r, 20));
  }
}

/** The last lines of a process's log, for error messages. */
export function logTail(record: ProcessRecord, lines = 15): string {
  try {
    return fs.readFileSync(record.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
