/**
 * Framing of the API server's port-forward WebSocket (subprotocol v4.channel.k8s.io), kept pure
 * so it can be tested without a socket.
 *
 * Every WebSocket message starts with one channel byte. For the i-th requested port, channel 2i
 * carries data both ways and channel 2i+1 carries error text from the kubelet. The first bytes
 * the kubelet writes on each of its channels are the port as uint16 little-endian; they are not
 * payload and must be stripped on every new WebSocket. (Outgoing, the channel byte travels in the
 * frame header's buffer: see WsConnection.send.)
 */

export const PORT_FORWARD_PROTOCOL = 'v4.channel.k8s.io';

/** Bytes of the port prefix at the start of each server-to-client channel. */
export const PORT_PREFIX_BYTES = 2;

export function dataChannel(portIndex: number): number {
  return portIndex * 2;
}

export function errorChannel(portIndex: number): number {
  return portIndex * 2 + 1;
}

/** The port prefix as the kubelet writes it. */
export function encodePort(port: number): Buffer {
  const b = Buffer.allocUnsafe(PORT_PREFIX_BYTES);
  b.writeUInt16LE(port, 0);
  return b;
}

/**
 * Strips the port prefix from the first bytes of each channel. The kubelet writes the prefix as
 * one message of its own, but nothing in the protocol promises that, so a prefix split over two
 * messages or followed by payload in the same message is handled too.
 */
export class PrefixStripper {
  private readonly remaining: number[];
  private readonly ports: number[];

  constructor(channels: number) {
    this.remaining = new Array<number>(channels).fill(PORT_PREFIX_BYTES);
    this.ports = new Array<number>(channels).fill(0);
  }

  /** Whether every channel's prefix has been seen. */
  get complete(): boolean {
    return this.remaining.every((r) => r === 0);
  }

  /** Whether `channel`'s prefix has been seen (channels out of range count as done). */
  done(channel: number): boolean {
    return !(this.remaining[channel]! > 0);
  }

  /** The port announced on `channel`, once its prefix is complete. */
  port(channel: number): number | undefined {
    return this.remaining[channel] === 0 ? this.ports[channel] : undefined;
  }

  /**
   * The payload of a message on `channel` with any prefix bytes removed (possibly empty).
   * Channels out of range pass through untouched.
   */
  strip(channel: number, payload: Buffer): Buffer {
    let left = this.remaining[channel];
    if (left === undefined || left === 0) return payload;
    let i = 0;
    while (left > 0 && i < payload.length) {
      // Little-endian: the first byte is the low one.
      const shift = (PORT_PREFIX_BYTES - left) * 8;
      this.ports[channel] = this.ports[channel]! | (payload[i]! << shift);
      left--;
      i++;
    }
    this.remaining[channel] = left;
    return i === 0 ? payload : payload.subarray(i);
  }
}
