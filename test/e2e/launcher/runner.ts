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
    // A real request through the unprivileged forward (port 80 moved to 10080): once web is
    // Active, retried until one answers 200 or the deadline passes (then the last answer or error).
    const deadline = Date.now() + 30_000;
    while (web && Date.now() < deadline) {
      const now = await connection.sendRequest(P.GetState.type);
      if (now.forwards.some((f) => f.id === web.id && f.status === 'Active')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const get = () => new Promise<{ ok: boolean; text: string }>((resolve) => {
      const req = http.get(`http://${web?.ip ?? ''}:10080/`, { agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ ok: res.statusCode === 200, text: body }));
        res.on('error', (e) => resolve({ ok: false, text: `error: ${e.message}` }));
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
      req.on('error', (e) => resolve({ ok: false, text: `error: ${e.message}` }));
    });
    let reply = await get();
    while (!reply.ok && web && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      reply = await get();
    }
    result.webAnswer = reply.text;
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
