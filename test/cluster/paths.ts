import * as path from 'node:path';

/** Repository root: out/test/cluster/*.js and test/cluster/*.ts both sit three levels down. */
export const repoRoot = path.resolve(__dirname, '..', '..', ...(__dirname.includes(`${path.sep}out${path.sep}`) ? ['..'] : []));

/** Where `cluster up` keeps its state, PKI, logs and the kubeconfig (git-ignored). */
export const clusterDir = process.env.KF_CLUSTER_DIR ?? path.join(repoRoot, '.cluster');
export const stateFile = path.join(clusterDir, 'state.json');
export const kubeconfigPath = path.join(clusterDir, 'kubeconfig');
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');
