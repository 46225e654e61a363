import * as assert from 'node:assert/strict';
import { api, until } from './helpers';

describe('without a kubeconfig', () => {
  it('shows the welcome view instead of a tree, with the reason', async () => {
    const a = await api();
    await a.ensureStarted();
    assert.deepEqual(await a.treeChildren(), []);
    const error = await until('the kubeconfig problem', () => a.kubeconfigError());
    assert.match(error, /no kubeconfig found at \/nonexistent\/kubeconfig/);
  });
});
