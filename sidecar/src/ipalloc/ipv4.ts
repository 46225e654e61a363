/** IPv4 addresses as four octets; only what allocation and validation need. */
export type Octets = readonly [number, number, number, number];

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/**
 * Strict dotted-quad parse. Leading zeros are refused because some tools read `010` as octal (8)
 * and others as decimal (10): a reservation must mean one address everywhere.
 */
export function parseIpv4(text: string): Octets | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    octets.push(value);
  }
  return [octets[0] ?? 0, octets[1] ?? 0, octets[2] ?? 0, octets[3] ?? 0];
}

export function formatIpv4(octets: Octets): string {
  return octets.join('.');
}

/** 127.0.0.0/8: the only addresses a root sidecar may bind or write to the hosts file. */
export function isLoopback(octets: Octets): boolean {
  return octets[0] === 127;
}
