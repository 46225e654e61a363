import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { readyTimes, startControlPlane, stopControlPlane, pkiOf, type Binaries, type ControlPlane } from './controlplane';
import { applyFixtures, applySecondClusterFixtures, scale } from './fixtures';
import { writeTestKubeconfig } from './kubeconfig';
import { clusterDir, kubeconfigPath, stateFile } from './paths';
import { isRunning } from './proc';
import { readState, writeState, type ClusterState } from './state';

const log = (line: string) => process.stderr.write(`[cluster] ${line}\n`);

function binaries(): Binaries {
  const dir = process.env.KF_BIN_DIR;
  const fakenode = process.env.KF_FAKENODE;
  if (!dir || !fakenode) throw new Error('KF_BIN_DIR and KF_FAKENODE must be set (run through test/cluster/cluster.sh)');
  return {
    dir,
    etcd: path.join(dir, 'etcd'),
    apiserver: path.join(dir, 'kube-apiserver'),
    controllerManager: path.join(dir, 'kube-controller-manager'),
    kubectl: path.join(dir, 'kubectl'),
    fakenode,
  };
}

function healthy(state: ClusterState | undefined, clusters: number): state is ClusterState {
  return !!state && state.controlPlanes.length === clusters &&
    state.controlPlanes.every((cp) => cp.processes.every(isRunning));
}

async function down(): Promise<void> {
  const state = readState();
  if (state) {
    for (const cp of [...state.controlPlanes].reverse()) {
      log(`stopping ${cp.name}`);
      await stopControlPlane(cp);
    }
  }
  fs.rmSync(stateFile, { force: true });
  fs.rmSync(kubeconfigPath, { force: true });
}

async function up(clusters: number): Promise<void> {
  const existing = readState();
  if (healthy(existing, clusters)) {
    log(`reusing the running cluster (${existing.controlPlanes.map((cp) => cp.server).join(', ')})`);
  } else {
    if (existing) {
      log('replacing a cluster that is not (fully) running');
      await down();
    }
    fs.mkdirSync(clusterDir, { recursive: true });
    const bins = binaries();
    const started: ControlPlane[] = [];
    try {
      for (let i = 1; i <= clusters; i++) started.push(await startControlPlane(i, clusterDir, bins, log));
    } catch (error) {
      for (const cp of started.reverse()) await stopControlPlane(cp);
      throw error;
    }
    log(`ready after (ms): ${Object.entries(readyTimes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    writeTestKubeconfig(kubeconfigPath, started.map((cp) => ({ name: cp.name, server: cp.server, pki: pkiOf(cp.dir) })));
    writeState({ version: 1, bins, kubeconfig: kubeconfigPath, controlPlanes: started });
  }
  await applyFixtures(log);
  if (clusters > 1) await applySecondClusterFixtures('second');
  log(`ready: KUBECONFIG=${kubeconfigPath} (contexts admin, dev, restricted${clusters > 1 ? ', second' : ''})`);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      clusters: { type: 'string', default: '1' },
      namespace: { type: 'string', short: 'n', default: 'scale' },
      count: { type: 'string', default: '200' },
      context: { type: 'string', default: 'admin' },
      prefix: { type: 'string', default: 'svc' },
    },
  });
  const command = positionals[0] ?? 'up';
  switch (command) {
    case 'up': {
      const clusters = Number(values.clusters);
      if (!Number.isInteger(clusters) || clusters < 1 || clusters > 4) throw new Error('--clusters takes 1 to 4');
      return up(clusters);
    }
    case 'down':
      return down();
    case 'status': {
      const state = readState();
      if (!state) return void console.log('no test cluster');
      for (const cp of state.controlPlanes) {
        console.log(`${cp.name} ${cp.server}`);
        for (const p of cp.processes) console.log(`  ${p.name.padEnd(24)} pid ${p.pid} ${isRunning(p) ? 'running' : 'NOT RUNNING'}`);
      }
      return;
    }
    case 'scale': {
      const count = Number(values.count);
      if (!Number.isInteger(count) || count < 1) throw new Error('--count takes a positive whole number');
      log(`creating ${count} services with pods in namespace ${values.namespace}`);
      await scale(values.namespace, count, values.context, values.prefix);
      log('all scale pods are Ready');
      return;
    }
    default:
      throw new Error(`unknown command "${command}": use up [--clusters N], down, status, or scale [-n NS] [--count N]`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[cluster] error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
