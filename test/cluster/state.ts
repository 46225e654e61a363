import * as fs from 'node:fs';
import type { Binaries, ControlPlane } from './controlplane';
import { kubeconfigPath, stateFile } from './paths';

/** What `cluster up` leaves in .cluster/state.json for `down`, the tests and the demo. */
export interface ClusterState {
  version: 1;
  bins: Binaries;
  kubeconfig: string;
  controlPlanes: ControlPlane[];
}

export function readState(): ClusterState | undefined {
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

/** The running test cluster, or a clear error telling how to start one. */
export function requireState(): ClusterState {
  const state = readState();
  if (!state) throw new Error(`no test cluster: ${stateFile} is missing (run \`npm run cluster:up\`)`);
  return state;
}

export function writeState(state: ClusterState): void {
  const tmp = `${stateFile}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2));
  fs.renameSync(tmp, stateFile);
}

export { kubeconfigPath };
