import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardInfo, ForwardStatus } from '../../../sidecar/src/protocol/types';
import { summarize } from '../../../extension/src/status/summary';
import { serviceContextValue, serviceStatus } from '../../../extension/src/tree/nodes';

const f = (service: string, status: ForwardStatus, extra: Partial<ForwardInfo> = {}): ForwardInfo => ({
  id: `${service}.demo.admin`, serviceId: `${service}.demo.admin`, context: 'admin', namespace: 'demo', service, kind: 'service',
  headless: false, ip: '127.1.27.1', hostnames: [], ports: [{ protocol: 'TCP', port: 80, localPort: 80, targetPort: 8080 }], status, since: 0, ...extra,
});

describe('status bar summary', () => {
  it('counts active, reconnecting and failed forwards', () => {
    const s = summarize([f('a', 'Active'), f('b', 'Active'), f('c', 'Reconnecting', { reason: 'pod gone' }), f('d', 'Failed', { reason: 'RBAC' }), f('e', 'Skipped')],
      { viewOpened: false, sidecar: 'running' });
    assert.equal(s.text, '$(plug) 2 · $(sync~spin) 1 · $(error) 1');
    assert.equal(s.severity, 'error');
    assert.match(s.tooltip, /d\.demo: RBAC/);
    assert.match(s.tooltip, /c\.demo: pod gone/);
  });

  it('hides when nothing is forwarded and the view was never opened', () => {
    assert.equal(summarize([], { viewOpened: false, sidecar: 'running' }).visible, false);
    assert.equal(summarize([], { viewOpened: true, sidecar: 'running' }).visible, true);
    assert.equal(summarize([], { viewOpened: false, sidecar: 'failed', sidecarError: 'boom' }).visible, true);
  });
});

describe('tree node words', () => {
  it('gives the worst state and contextValue words for menus', () => {
    assert.equal(serviceStatus([f('a', 'Active'), f('a', 'Reconnecting')]), 'Reconnecting');
    assert.equal(serviceContextValue([f('web', 'Active')]), 'service forwarding http addressable');
    assert.equal(serviceContextValue([]), 'service idle');
  });
});
