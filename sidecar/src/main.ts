import { parseArgs } from 'node:util';
import { clientNodeForward } from './diagnostics/clientNodeForward';

/** Entry point of dist/sidecar.js: the kubefwd-compatible CLI and `serve --stdio` for the extension. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'client-node-forward': {
      const { values } = parseArgs({
        args: rest,
        options: {
          kubeconfig: { type: 'string', short: 'c' },
          context: { type: 'string', short: 'x' },
          namespace: { type: 'string', short: 'n', default: 'default' },
          pod: { type: 'string' },
          port: { type: 'string' },
          listen: { type: 'string', default: '127.0.0.1:0' },
        },
      });
      if (!values.pod || !values.port) throw new Error('client-node-forward needs --pod and --port');
      await clientNodeForward({ ...values, namespace: values.namespace, pod: values.pod, port: Number(values.port), listen: values.listen });
      return -1;
    }
    default:
      process.stderr.write(`kube-forward: unknown command "${command ?? ''}"\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`kube-forward: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
