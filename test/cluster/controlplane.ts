import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { get } from './http';
import { writeAdminKubeconfig } from './kubeconfig';
import { ensurePki, type Pki } from './pki';
import { freePort } from './ports';
import { isRunning, logTail, startDetached, stop, type ProcessRecord } from './proc';
import { GiveUp, waitFor } from './wait';

export interface Binaries {
  dir: string;
  etcd: string;
  apiserver: string;
  controllerManager: string;
  kubectl: string;
  fakenode: string;
}

export interface ControlPlane {
  index: number;
  name: string;
  server: string;
  dir: string;
  dataDir: string;
  adminKubeconfig: string;
  processes: ProcessRecord[];
}

const controllers = [
  'deployment-controller', 'replicaset-controller', 'statefulset-controller', 'job-controller',
  'endpoints-controller', 'endpointslice-controller', 'garbage-collector-controller', 'namespace-controller',
  'serviceaccount-controller', 'clusterrole-aggregation-controller',
];

/** How long each component took to become ready in this process (ms), for the log. */
export const readyTimes: Record<string, number> = {};

function fail(record: ProcessRecord, what: string, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  throw new Error(`${what} did not become ready (${message}); last lines of ${record.log}:\n${logTail(record)}`);
}

async function ready(record: ProcessRecord, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const started = Date.now();
  try {
    await waitFor(what, async () => {
      if (!isRunning(record)) throw new GiveUp(`${record.name} exited`);
      return check();
    }, timeoutMs, 100);
    readyTimes[record.name] = Date.now() - started;
  } catch (error) {
    fail(record, what, error);
  }
}

export function pkiOf(dir: string): Pki {
  return ensurePki(path.join(dir, 'pki'));
}

/** Starts etcd → kube-apiserver → kube-controller-manager → fake node for control plane `index`. */
export async function startControlPlane(index: number, clusterDir: string, bins: Binaries,
  log: (line: string) => void): Promise<ControlPlane> {
  const name = `kube-forward-${index}`;
  const dir = path.join(clusterDir, `cp-${index}`);
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  const pki = pkiOf(dir);
  const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const dataDir = fs.mkdtempSync(path.join(shm, `kube-forward-etcd-${index}-`));
  const cp: ControlPlane = { index, name, server: '', dir, dataDir, adminKubeconfig: path.join(dir, 'admin.kubeconfig'), processes: [] };
  try {
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    log(`[${name}] etcd on 127.0.0.1:${etcdClient}`);
    const etcd = startDetached('etcd', bins.etcd, [
      '--name', name, '--data-dir', path.join(dataDir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${etcdClient}`, '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster', `${name}=http://127.0.0.1:${etcdPeer}`, '--unsafe-no-fsync', '--log-level', 'warn',
    ], path.join(logs, 'etcd.log'));
    cp.processes.push(etcd);
    await ready(etcd, 'etcd /health', async () => (await get(`http://127.0.0.1:${etcdClient}/health`)).body.includes('"true"'), 30_000);

    cp.server = `https://127.0.0.1:${apiPort}`;
    log(`[${name}] kube-apiserver on ${cp.server}`);
    const apiserver = startDetached('kube-apiserver', bins.apiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1', `--secure-port=${apiPort}`,
      '--advertise-address=127.0.0.1', '--endpoint-reconciler-type=none',
      '--authorization-mode=RBAC', `--client-ca-file=${pki.caCert}`, `--token-auth-file=${pki.tokenFile}`,
      `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
      '--service-cluster-ip-range=10.96.0.0/16', '--kubelet-preferred-address-types=InternalIP',
      `--kubelet-client-certificate=${pki.kubeletClientCert}`, `--kubelet-client-key=${pki.kubeletClientKey}`,
      '--disable-admission-plugins=TaintNodesByCondition', '--allow-privileged=true', '--profiling=false',
      `--cert-dir=${path.join(dataDir, 'certs')}`, '--v=1',
    ], path.join(logs, 'kube-apiserver.log'));
    cp.processes.push(apiserver);
    const tls = { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey };
    await ready(apiserver, 'kube-apiserver /readyz', async () => (await get(`${cp.server}/readyz`, tls)).status === 200, 90_000);
    writeAdminKubeconfig(cp.adminKubeconfig, { name, server: cp.server, pki });

    log(`[${name}] kube-controller-manager`);
    const kcm = startDetached('kube-controller-manager', bins.controllerManager, [
      `--kubeconfig=${cp.adminKubeconfig}`, '--secure-port=0', '--leader-elect=false',
      `--controllers=${controllers.join(',')}`, '--use-service-account-credentials=false',
      `--service-account-private-key-file=${pki.saKey}`, `--root-ca-file=${pki.caCert}`,
      '--concurrent-deployment-syncs=10', '--concurrent-replicaset-syncs=10', '--concurrent-service-endpoint-syncs=10',
      '--v=1',
    ], path.join(logs, 'kube-controller-manager.log'));
    cp.processes.push(kcm);
    // The controller manager has no health port here: its serviceaccount controller creating the
    // default ServiceAccount is the sign that its controllers run.
    await ready(kcm, 'kube-controller-manager (default ServiceAccount)', async () =>
      (await get(`${cp.server}/api/v1/namespaces/default/serviceaccounts/default`, tls)).status === 200, 60_000);

    log(`[${name}] fake node`);
    const readyFile = path.join(dir, 'fakenode.port');
    fs.rmSync(readyFile, { force: true });
    const node = startDetached('fakenode', bins.fakenode, [
      `--kubeconfig=${cp.adminKubeconfig}`, '--node-name=fake-node-1', '--listen=127.0.0.1:0', `--ready-file=${readyFile}`,
    ], path.join(logs, 'fakenode.log'));
    cp.processes.push(node);
    await ready(node, 'fake node', async () => fs.existsSync(readyFile), 60_000);
    return cp;
  } catch (error) {
    await stopControlPlane(cp);
    throw error;
  }
}

/** Stops every process of the control plane (newest first) and removes its data dir. */
export async function stopControlPlane(cp: ControlPlane): Promise<void> {
  for (const record of [...cp.processes].reverse()) await stop(record);
  fs.rmSync(cp.dataDir, { recursive: true, force: true });
}
