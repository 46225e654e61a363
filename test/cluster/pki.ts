import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Files of one control plane's PKI. Made with openssl; EC P-256 keys (fast to make). */
export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  kubeletClientCert: string;
  kubeletClientKey: string;
  saKey: string;
  saPub: string;
  tokenFile: string;
  tokens: Record<TestUser, string>;
}

/** Token users of the test cluster (see test/fixtures/rbac.yaml for what each may do). */
export type TestUser = 'dev' | 'restricted';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ecKey(file: string, cwd: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file], cwd);
}

function signed(name: string, subject: string, ext: string, cwd: string): void {
  ecKey(`${name}.key`, cwd);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], cwd);
  fs.writeFileSync(path.join(cwd, `${name}.ext`), ext);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '3650', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`], cwd);
  fs.rmSync(path.join(cwd, `${name}.csr`));
  fs.rmSync(path.join(cwd, `${name}.ext`));
}

/** Creates the PKI in `dir` unless it is already complete there. */
export function ensurePki(dir: string): Pki {
  const pki: Pki = {
    dir,
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    serverCert: path.join(dir, 'apiserver.crt'),
    serverKey: path.join(dir, 'apiserver.key'),
    adminCert: path.join(dir, 'admin.crt'),
    adminKey: path.join(dir, 'admin.key'),
    kubeletClientCert: path.join(dir, 'kubelet-client.crt'),
    kubeletClientKey: path.join(dir, 'kubelet-client.key'),
    saKey: path.join(dir, 'sa.key'),
    saPub: path.join(dir, 'sa.pub'),
    tokenFile: path.join(dir, 'tokens.csv'),
    tokens: { dev: '', restricted: '' },
  };
  const tokensJson = path.join(dir, 'tokens.json');
  const complete = [pki.caCert, pki.serverCert, pki.adminCert, pki.kubeletClientCert, pki.saPub, pki.tokenFile, tokensJson]
    .every((file) => fs.existsSync(file));
  if (complete) {
    pki.tokens = JSON.parse(fs.readFileSync(tokensJson, 'utf8')) as Record<TestUser, string>;
    return pki;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  ecKey('ca.key', dir);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=kube-forward-test-ca', '-days', '3650',
    '-sha256', '-out', 'ca.crt'], dir);
  const serverSans = ['IP:127.0.0.1', 'IP:10.96.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'].join(',');
  signed('apiserver', '/CN=kube-apiserver', `subjectAltName=${serverSans}\nextendedKeyUsage=serverAuth\n`, dir);
  signed('admin', '/O=system:masters/CN=kube-forward-admin', 'extendedKeyUsage=clientAuth\n', dir);
  signed('kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'extendedKeyUsage=clientAuth\n', dir);
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  pki.tokens = {
    dev: crypto.randomBytes(16).toString('hex'),
    restricted: crypto.randomBytes(16).toString('hex'),
  };
  fs.writeFileSync(pki.tokenFile,
    `${pki.tokens.dev},dev,uid-dev,"kube-forward:developers"\n${pki.tokens.restricted},restricted,uid-restricted\n`,
    { mode: 0o600 });
  fs.writeFileSync(tokensJson, JSON.stringify(pki.tokens), { mode: 0o600 });
  return pki;
}
