import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { choosePod, isEligible, rankPods, resolveTargetPort } from '../../../sidecar/src/discovery/pods';
import { pod, service } from '../../helpers/builders';

describe('pod choice', () => {
  it('never chooses evicted, completed, failed or terminating pods', () => {
    const pods = [
      pod('evicted').phase('Failed', 'Evicted').build(),
      pod('done').phase('Succeeded').build(),
      pod('pending').phase('Pending').build(),
      pod('going').deleting().build(),
    ];
    assert.equal(pods.filter(isEligible).length, 0);
    assert.equal(choosePod(pods), undefined);
  });

  it('prefers ready pods, then the longest running, then the name', () => {
    const pods = [pod('c').startedAt(3).build(), pod('b').startedAt(1).unready().build(), pod('a').startedAt(2).build()];
    assert.deepEqual(rankPods(pods).map((p) => p.metadata?.name), ['a', 'c', 'b']);
    assert.equal(choosePod(pods)?.metadata?.name, 'a');
  });

  it('keeps the current pod while it stays ready', () => {
    const pods = [pod('a').startedAt(1).build(), pod('b').startedAt(2).build()];
    assert.equal(choosePod(pods, 'b')?.metadata?.name, 'b');
    assert.equal(choosePod([pods[0]!, pod('b').unready().build()], 'b')?.metadata?.name, 'a');
  });
});

describe('target ports', () => {
  const p = pod('web').containerPort(8080, 'http').containerPort(53, 'dns', 'UDP').build();
  it('resolves numbers, names, and the default', () => {
    assert.equal(resolveTargetPort(service('web').port(80, 8080).build().spec!.ports![0]!, p), 8080);
    assert.equal(resolveTargetPort(service('web').port(80, 'http').build().spec!.ports![0]!, p), 8080);
    assert.equal(resolveTargetPort(service('web').port(9000).build().spec!.ports![0]!, p), 9000);
  });
  it('matches a named port only with the same protocol', () => {
    assert.equal(resolveTargetPort(service('web').port(53, 'dns').build().spec!.ports![0]!, p), undefined);
    assert.equal(resolveTargetPort(service('web').port(53, 'dns', 'UDP').build().spec!.ports![0]!, p), 53);
  });
});
