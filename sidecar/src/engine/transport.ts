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
      tunnel.close();
    },
    async close() {
      await Promise.allSettled([...listeners].map((l) => l.close()));
      listeners.clear();
    },
  };
}
