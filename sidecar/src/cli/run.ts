import type { Engine } from '../engine/engine';
import { codeOf, messageOf } from '../errors';
import { installShutdown } from '../lifecycle/shutdown';
import type { ForwardInfo, ForwardSpec, TargetSpec } from '../protocol/types';
import { renderChange, renderTable } from './table';

export interface LiveOutput {
  tty: boolean;
  write(text: string): void;
  columns?: number;
}

/** Prints the engine's forwards: a redrawn table on a terminal, one line per change otherwise. */
export function attachOutput(engine: Engine, out: LiveOutput, verbose: boolean): () => void {
  let timer: NodeJS.Timeout | undefined;
  let drawnLines = 0;
  const draw = () => {
    timer = undefined;
    // A pseudo-terminal may report 0 columns: fall back to a sensible width.
    const lines = renderTable(engine.forwards(), out.columns && out.columns >= 40 ? out.columns : 160);
    const clear = drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[J` : '';
    out.write(`${clear}${lines.join('\n')}\n`);
    drawnLines = lines.length;
  };
  const last = new Map<string, string>();
  engine.on('forwards', (changed: ForwardInfo[], removed: string[]) => {
    if (out.tty) {
      timer ??= setTimeout(draw, 100);
      return;
    }
    for (const f of changed) {
      const line = renderChange(f);
      if (last.get(f.id) === line) continue;
      last.set(f.id, line);
      out.write(`${line}\n`);
    }
    for (const id of removed) {
      last.delete(id);
      out.write(`${'REMOVED'.padEnd(12)} ${id}\n`);
    }
  });
  engine.on('event', (event) => {
    if (event.level === 'error' || event.level === 'warn' || verbose) {
      const text = `${event.level.toUpperCase()} ${event.message}\n`;
      if (out.tty) process.stderr.write(text);
      else out.write(text);
    }
  });
  return () => clearTimeout(timer);
}

const FATAL_AT_START = new Set(['PORT_IN_USE', 'PORT_PRIVILEGED', 'IP_EXHAUSTED', 'INVALID_RESERVATION', 'ADDRESS_UNAVAILABLE']);

export interface RunRequest {
  namespaces: ForwardSpec[];
  targets: TargetSpec[];
  verbose: boolean;
}

/**
 * `kube-forward svc` / `target`: starts the forwards, prints them live, and runs until a signal;
 * every exit path removes the hosts block. Resolves with the exit code when nothing could start.
 */
export async function runForwards(engine: Engine, request: RunRequest, out: LiveOutput): Promise<number | undefined> {
  installShutdown(engine, { log: (line) => process.stderr.write(`${line}\n`) });
  attachOutput(engine, out, request.verbose);
  // Failures that a person must fix before kubefwd-style use makes sense: at start they end the
  // run with one line and exit code 2 (later, e.g. for a service added while running, they only
  // mark that forward Failed).
  let fatal: string | undefined;
  const onEvent = (event: { code?: string; message: string }) => {
    if (!fatal && event.code && FATAL_AT_START.has(event.code)) fatal = event.message;
  };
  engine.on('event', onEvent);
  for (const spec of request.namespaces) {
    try {
      await engine.forwardNamespace(spec, 'cli');
    } catch (error) {
      process.stderr.write(`kube-forward: ${messageOf(error)}\n`);
      if (['UNKNOWN_CONTEXT', 'KUBECONFIG_NOT_FOUND', 'KUBECONFIG_INVALID', 'KUBECONFIG_UNREADABLE'].includes(codeOf(error))) {
        await engine.shutdown();
        return 2;
      }
    }
  }
  for (const target of request.targets) {
    try {
      await engine.forwardTarget(target);
    } catch (error) {
      process.stderr.write(`kube-forward: ${messageOf(error)}\n`);
      await engine.shutdown();
      return 2;
    }
  }
  engine.off('event', onEvent);
  if (fatal) {
    process.stderr.write(`kube-forward: ${fatal}\n`);
    await engine.shutdown();
    return 2;
  }
  const failedAll = engine.namespaceInfos().length > 0 && engine.namespaceInfos().every((n) => n.status === 'Failed');
  if (failedAll && request.targets.length === 0) {
    await engine.shutdown();
    return 1;
  }
  return undefined;
}
