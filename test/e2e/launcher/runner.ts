/**
 * Runs as the unprivileged test user: starts the sidecar through the extension's real launcher
 * (with a stub `sudo` first on PATH), talks JSON-RPC to it, and prints one JSON line of results.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { launchSidecar } from '../../../extension/src/sidecar/launcher';
import * as P from '../../../sidecar/src/protocol/methods';

async function main(): Promise<void> {
  const asked: string[] = [];
  const answer = process.env.KF_ANSWER;
  const result: Record<string, unknown> = {};
  try {
    const launched = await launchSidecar({
      extensionPath: process.env.KF_EXT ?? '',
      setting: (process.env.KF_SETTING ?? 'auto') as 'auto',
      trusted: true,
      kubeconfig: process.env.KF_KUBECONFIG ?? '',
      askPassword: async () => {
        asked.push('password');
        return answer === 'decline' ? undefined : answer;
      },
      log: () => undefined,
    }, { value: false });
    result.plan = launched.plan.kind === 'direct' ? `direct-${launched.plan.root ? 'root' : 'user'}` : launched.plan.kind;
    const child = launched.process;
    child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
    child.once('exit', (code, signal) => process.stderr.write(`sidecar exited ${String(code ?? signal)}\n`));
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    connection.listen();
    const died = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the sidecar exited (${String(code)}) before answering`))));
    const init = await Promise.race([died, connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} })]) as { serverInfo?: { name: string } };
    result.server = init.serverInfo?.name;
    result.cmdline = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').join(' ');
    const state = await connection.sendRequest(P.ForwardNamespace.type, { context: 'dev', namespace: 'demo' });
    result.root = state.privileges.root;
    result.limitations = state.privileges.limitations;
    result.hostsPath = state.privileges.hostsPath ?? null;
    const web = state.forwards.find((f) => f.id === 'web.demo.dev');
    result.webPorts = web?.ports.map((p) => `${p.port}->${p.localPort}`);
    result.webIp = web?.ip;
    // A real request through the unprivileged forward (port 80 moved to 10080).
    for (let i = 0; i < 100 && web; i++) {
      const now = await connection.sendRequest(P.GetState.type);
      if (now.forwards.some((f) => f.id === web.id && f.status === 'Active')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    result.webAnswer = await new Promise<string>((resolve) => {
      http.get(`http://${web?.ip ?? ''}:10080/`, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      }).on('error', (e) => resolve(`error: ${e.message}`));
    });
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
    result.exit = await new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  } catch (error) {
    result.error = { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  result.asked = asked;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

void main();
