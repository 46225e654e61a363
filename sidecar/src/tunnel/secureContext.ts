import * as tls from 'node:tls';

/** The options that shape a client SecureContext (as opposed to one connection). */
export const CONTEXT_MATERIAL = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'ciphers', 'ecdhCurve', 'crl', 'secureProtocol', 'sigalgs'] as const;

interface Entry {
  material: unknown[];
  context: tls.SecureContext;
}

const cache = new WeakMap<object, Entry>();

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return false;
}

/**
 * A SecureContext shared by every tunnel of `owner` (a kubeconfig) while its TLS material is
 * unchanged. Without it each connection parses the CA bundle, certificate and key again
 * (measured: about a quarter of the sidecar's CPU in a burst of new connections). Credentials
 * that rotate (exec plugins issuing client certificates) simply make a new context.
 */
export function sharedSecureContext(owner: object, options: tls.SecureContextOptions): tls.SecureContext {
  const material = CONTEXT_MATERIAL.map((k) => options[k]);
  const hit = cache.get(owner);
  if (hit && hit.material.every((m, i) => same(m, material[i]))) return hit.context;
  const context = tls.createSecureContext(options);
  cache.set(owner, { material, context });
  return context;
}
