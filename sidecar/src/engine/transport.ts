import type { KubeConfig } from '@kubernetes/client-node';
import { HttpSniffer } from '../metrics';
import { PortListener } from '../tunnel/listener';
import { openTunnel } from '../tunnel/websocket';
import type { Target } from '../forward/unit';
import type { ListenRequest, Transport } from './deps';

/**
 * The engine's transport: a PortListener per forwarded port (our WebSocket tunnel, one per
 * connection), per-connection HTTP sniffing into the engine's HTTP log, and probes for health
 * checks after failures.
 */
/** How long a probe waits after the handshake for the kubelet to report the pod port refused. */
const PROBE_SETTLE_MS = 300;

export function createTransport(): Transport {
  const listeners = new Set<PortListener>();
  return {
    async listen(request: ListenRequest) {
      const { meter, events } = request;
      const listener = await PortListener.listen({
        kc: request.kc,
        ip: request.ip,
        port: request.port.localPort,
        resolve: () => {
          const t = request.resolve();
          return { namespace: t.namespace, pod: t.pod, podPort: t.podPort };
        },
        hooks: {
          onError: (code, message) => events.onConnectionError(code, message),
          onBytesIn: (n) => meter.addIn(n),
          onBytesOut: (n) => meter.addOut(n),
          onOpen: () => meter.connectionOpened(),
          onClose: () => meter.connectionClosed(),
          tap: (target) => {
            const sniffer = new HttpSniffer((exchange) => {
              request.onHttp(exchange, { namespace: target.namespace, pod: target.pod, podPort: target.podPort });
              events.onHttp(request.port.localPort);
            });
            return {
              data: (direction, chunk) => {
                if (!sniffer.active) return;
                if (direction === 'out') sniffer.onRequestData(chunk);
                else sniffer.onResponseData(chunk);
              },
              close: () => sniffer.close(),
            };
          },
        },
      });
      listeners.add(listener);
      return {
        close: async () => {
          listeners.delete(listener);
          await listener.close();
        },
      };
    },
    async probe(kc: KubeConfig, target: Target) {
      const tunnel = await openTunnel(kc, { namespace: target.namespace, pod: target.pod, port: target.podPort });
      await tunnel.ready;
      // The port prefixes arrive before the kubelet tries the pod's port: give its "connection
      // refused" a moment to arrive before calling the pod healthy.
      const failure = await new Promise<Error | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), PROBE_SETTLE_MS);
        tunnel.attach({ data: () => undefined, closed: (error) => { clearTimeout(timer); resolve(error); } });
      });
      tunnel.close();
      if (failure) throw failure;
    },
    async close() {
      await Promise.allSettled([...listeners].map((l) => l.close()));
      listeners.clear();
    },
  };
}
