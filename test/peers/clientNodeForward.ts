import * as net from 'node:net';
import { parseArgs } from 'node:util';
import { KubeConfig, PortForward } from '@kubernetes/client-node';

interface ClientNodeForwardOptions {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  pod: string;
  port: number;
  listen: string;
}

/**
 * @kubernetes/client-node's own PortForward, used the way its example does (a net server calling
 * portForward per connection), from the npm package as its users run it: a peer in the
 * benchmarks and the cluster smoke test. Not part of Kube Forward (its sidecar has its own
 * transport, sidecar/src/tunnel).
 *   node out/test/peers/clientNodeForward.js [-c KUBECONFIG] [-x CONTEXT] [-n NS] --pod POD --port PORT [--listen HOST:PORT]
 * Prints `listening HOST:PORT`.
 */
async function clientNodeForward(options: ClientNodeForwardOptions): Promise<void> {
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

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string', short: 'c' }, context: { type: 'string', short: 'x' },
    namespace: { type: 'string', short: 'n', default: 'default' }, pod: { type: 'string' }, port: { type: 'string' },
    listen: { type: 'string', default: '127.0.0.1:0' },
  },
});
if (!values.pod || !values.port) {
  process.stderr.write('clientNodeForward: --pod and --port are needed\n');
  process.exit(2);
}
clientNodeForward({ ...values, namespace: values.namespace, pod: values.pod, port: Number(values.port), listen: values.listen }).catch((error: unknown) => {
  process.stderr.write(`clientNodeForward: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
