import * as net from 'node:net';
import { KubeConfig, PortForward } from '@kubernetes/client-node';

export interface ClientNodeForwardOptions {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  pod: string;
  port: number;
  listen: string;
}

/**
 * `kube-forward client-node-forward`: @kubernetes/client-node's own PortForward, used the way its
 * example does (a net server calling portForward per connection). It is a peer in the benchmarks
 * and proves that the bundled client-node opens WebSockets to the API server. Not Kube Forward's
 * transport (see tunnel/).
 */
export async function clientNodeForward(options: ClientNodeForwardOptions): Promise<void> {
  const kc = new KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromDefault();
  if (options.context) kc.setCurrentContext(options.context);
  const forward = new PortForward(kc);
  const server = net.createServer((socket) => {
    forward.portForward(options.namespace, options.pod, [options.port], socket, null, socket).catch((error: unknown) => {
      process.stderr.write(`port-forward failed: ${error instanceof Error ? error.message : String(error)}\n`);
      socket.destroy();
    });
  });
  const [host, port] = splitHostPort(options.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`listening ${address.address}:${address.port}\n`);
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

function splitHostPort(value: string): [string, number] {
  const i = value.lastIndexOf(':');
  const host = i >= 0 ? value.slice(0, i) : value;
  const port = i >= 0 ? Number(value.slice(i + 1)) : 0;
  return [host || '127.0.0.1', Number.isInteger(port) ? port : 0];
}
