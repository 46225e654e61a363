import type { Engine } from '../engine/engine';
import { installShutdown } from '../lifecycle/shutdown';
import { serveRpc } from './rpc';

/**
 * `kube-forward serve --stdio`: JSON-RPC on stdin/stdout for the extension. stdout is the
 * protocol channel, so logs go to stderr (the extension shows them in its output channel). The
 * process ends itself on stdin EOF and when its parent dies: a root sidecar cannot be killed by
 * the user's extension host.
 */
export function serveStdio(engine: Engine): void {
  const exit = installShutdown(engine, { watchParent: true, log: (line) => process.stderr.write(`${line}\n`) });
  serveRpc(engine, process.stdin, process.stdout, { onExit: (code) => exit(code, code === 0 ? 'the extension disconnected' : 'protocol error') });
}
