import type { KubeConfig } from '@kubernetes/client-node';
import { KubeForwardError } from '../errors';
import type { MuxStream } from './muxstream';
import { SpdySession, type SpdySessionOptions } from './spdysession';
import { podPortForwardUrl, upgradeToPod, type OpenTunnelOptions } from './websocket';
import { rawSpdyUpgrade, type ReadSink } from './rawupgrade';
import { spdyUpgrade } from './wsconnect';
import type { EarlyData } from './tunnel';

/** The SPDY subprotocol of port-forward. */
export const SPDY_PORT_FORWARD = 'portforward.k8s.io';

export interface OpenMuxOptions extends OpenTunnelOptions {
  session?: SpdySessionOptions;
  /** Sessions per pod at most; when all are congested the caller falls back. Default 4. */
  maxSessions?: number;
  /** Streams on the least busy session at which another session is opened. Default 8. */
  spreadAt?: number;
  /** false: read the session's socket the usual way (a new buffer per read). Default true. */
  reuseReadBuffer?: boolean;
  /** The connection's first bytes, sent with the stream's SYN_STREAM (see EarlyData). */
  early?: EarlyData;
}

/** The sessions to one pod (one kubeconfig view, context, namespace, pod). */
class SessionSet {
  readonly sessions: SpdySession[] = [];
  private opening: Promise<SpdySession> | undefined;

  /** Called when the last session ended and none is opening (the pod's entry can go). */
  constructor(private readonly onEmpty: () => void) {}

  /**
   * A session that takes streams: the open one with the fewest streams while it has fewer than
   * `spreadAt`; else a new one (up to `max`), so that many busy connections are spread over
   * several TCP connections (and API server and kubelet goroutines) instead of queueing in one.
   */
  async pick(open: () => Promise<SpdySession>, max: number, spreadAt: number): Promise<SpdySession | undefined> {
    let best: SpdySession | undefined;
    for (const s of this.sessions) if (s.usable && (!best || s.streamCount < best.streamCount)) best = s;
    if (best && (best.streamCount < spreadAt || this.opening || this.sessions.length >= max)) return best;
    if (this.opening) return this.opening;
    if (this.sessions.length >= max) return undefined;
    this.opening = open().then((session) => {
      this.sessions.push(session);
      session.onEnd = () => {
        const i = this.sessions.indexOf(session);
        if (i >= 0) this.sessions.splice(i, 1);
        if (this.sessions.length === 0 && !this.opening) this.onEmpty();
      };
      return session;
    }).finally(() => (this.opening = undefined));
    return this.opening;
  }
}

const sets = new WeakMap<KubeConfig, Map<string, SessionSet>>();

function setFor(kc: KubeConfig, options: OpenTunnelOptions): SessionSet {
  let byPod = sets.get(kc);
  if (!byPod) sets.set(kc, (byPod = new Map()));
  const key = `${options.context ?? ''}\u0000${options.namespace}\u0000${options.pod}`;
  let set = byPod.get(key);
  if (!set) {
    const pods = byPod;
    set = new SessionSet(() => pods.delete(key));
    byPod.set(key, set);
  }
  return set;
}

/**
 * A forwarded connection as a stream pair on a shared SPDY session to the pod (opened on first
 * use, closed after it idles). Rejects like openTunnel; MUX_BUSY when every session to the pod
 * is congested (the caller uses a WebSocket of its own instead).
 */
export async function openMuxStream(kc: KubeConfig, options: OpenMuxOptions): Promise<MuxStream> {
  const started = performance.now();
  const set = setFor(kc, options);
  const session = await set.pick(async () => {
    let input: ((sink: ReadSink) => void) | undefined;
    const { upgraded, where } = await upgradeToPod(kc, options, async (server, request, cluster) => {
      const url = podPortForwardUrl(server, options);
      // Through a proxy: http(s).request with the kubeconfig's proxy agent; else a socket that
      // reads into one reused buffer.
      if (cluster.proxyUrl || options.reuseReadBuffer === false) return spdyUpgrade(url, SPDY_PORT_FORWARD, request);
      const raw = await rawSpdyUpgrade(url, SPDY_PORT_FORWARD, request);
      input = raw.setSink;
      return raw;
    });
    const { port: _port, ...podWhere } = where;
    return new SpdySession(upgraded.socket, upgraded.head, podWhere, options.session, input);
  }, options.maxSessions ?? 4, options.spreadAt ?? 8);
  if (!session) throw new KubeForwardError('MUX_BUSY', `every SPDY session to pod ${options.namespace}/${options.pod} is congested`);
  if (options.signal?.aborted) throw new KubeForwardError('ABORTED', `port-forward to pod ${options.namespace}/${options.pod} was cancelled`);
  const remaining = Math.max(1, (options.openTimeoutMs ?? 15_000) - (performance.now() - started));
  const stream = session.open(options, remaining, options.early);
  const signal = options.signal;
  if (signal) {
    const onAbort = () => stream.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    const off = () => signal.removeEventListener('abort', onAbort);
    void stream.ready.then(off, off);
  }
  return stream.ready;
}
