import * as fs from 'node:fs';
import * as yaml from 'js-yaml';
import type { Pki } from './pki';

export interface KubeconfigCluster {
  name: string;
  server: string;
  pki: Pki;
}

export interface KubeconfigContext {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
}

type User = { name: string; user: Record<string, string> };

function admin(name: string, pki: Pki): User {
  return { name, user: { 'client-certificate': pki.adminCert, 'client-key': pki.adminKey } };
}

/** Writes a kubeconfig (mode 0600) with file references into the PKI folders. */
export function writeKubeconfig(file: string, clusters: KubeconfigCluster[], contexts: KubeconfigContext[],
  users: User[], current: string): void {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: clusters.map((c) => ({ name: c.name, cluster: { server: c.server, 'certificate-authority': c.pki.caCert } })),
    users,
    contexts: contexts.map((c) => ({
      name: c.name,
      context: { cluster: c.cluster, user: c.user, ...(c.namespace ? { namespace: c.namespace } : {}) },
    })),
    'current-context': current,
  };
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, yaml.dump(doc), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The kubeconfig `cluster up` writes: admin, dev and restricted on cluster 1; `second` on cluster 2. */
export function writeTestKubeconfig(file: string, clusters: KubeconfigCluster[]): void {
  const [first, ...others] = clusters;
  if (!first) throw new Error('no cluster');
  const users: User[] = [
    admin('admin', first.pki),
    { name: 'dev', user: { token: first.pki.tokens.dev } },
    { name: 'restricted', user: { token: first.pki.tokens.restricted } },
  ];
  const contexts: KubeconfigContext[] = [
    { name: 'admin', cluster: first.name, user: 'admin', namespace: 'demo' },
    { name: 'dev', cluster: first.name, user: 'dev', namespace: 'demo' },
    { name: 'restricted', cluster: first.name, user: 'restricted', namespace: 'demo' },
  ];
  others.forEach((cluster, i) => {
    const name = i === 0 ? 'second' : `cluster-${i + 2}`;
    users.push(admin(`${name}-admin`, cluster.pki));
    contexts.push({ name, cluster: cluster.name, user: `${name}-admin`, namespace: 'demo' });
  });
  writeKubeconfig(file, clusters, contexts, users, 'admin');
}

/** A single-context admin kubeconfig for one control plane's own components. */
export function writeAdminKubeconfig(file: string, cluster: KubeconfigCluster): void {
  writeKubeconfig(file, [cluster], [{ name: 'admin', cluster: cluster.name, user: 'admin' }], [admin('admin', cluster.pki)], 'admin');
}
