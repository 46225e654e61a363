import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSettings } from '../../../extension/src/settings';

const raw = (values: Record<string, unknown>, global: Record<string, unknown> = {}) => ({ get: (k: string) => values[k], getGlobal: (k: string) => global[k] });

describe('extension settings', () => {
  it('reads valid settings and resolves a relative kubeconfig against the workspace', () => {
    const { settings, problems } = readSettings(raw({
      kubeconfig: 'kube/config', forwards: [{ namespace: 'shop', context: 'prod', autoStart: true, services: ['web'] }],
      portMappings: ['80:8080', 'web.shop:443:8443'], reservations: ['web.shop:127.1.27.50'], domain: 'dev.local', autoReconnect: false,
    }), '/work/app');
    assert.deepEqual(problems, []);
    assert.equal(settings.kubeconfig, '/work/app/kube/config');
    assert.deepEqual(settings.forwards, [{ namespace: 'shop', context: 'prod', services: ['web'], autoStart: true }]);
    assert.deepEqual(settings.portMappings, ['80:8080', 'web.shop:443:8443']);
    assert.equal(settings.domain, 'dev.local');
    assert.equal(settings.autoReconnect, false);
  });

  it('reports each invalid value with the setting name and keeps the rest', () => {
    const { settings, problems } = readSettings(raw({
      forwards: [{ namespace: 'Bad_NS' }, { namespace: 'ok' }, 'nope'], portMappings: ['80:8080', 'eighty'],
      reservations: ['web.shop:10.0.0.1'], domain: 'no spaces', autoReconnect: 'yes',
    }));
    assert.deepEqual(settings.forwards.map((f) => f.namespace), ['ok']);
    assert.deepEqual(settings.portMappings, ['80:8080']);
    assert.deepEqual(settings.reservations, []);
    assert.equal(settings.autoReconnect, true);
    for (const name of ['forwards[0].namespace', 'forwards[2]', 'portMappings', 'reservations', 'domain', 'autoReconnect']) {
      assert.ok(problems.some((p) => p.startsWith(`kubeForward.${name}`)), `a problem names kubeForward.${name}: ${problems.join(' | ')}`);
    }
  });

  it('takes elevation from user settings only, never from the workspace', () => {
    assert.equal(readSettings(raw({ elevation: 'none' })).settings.elevation, 'auto');
    assert.equal(readSettings(raw({}, { elevation: 'none' })).settings.elevation, 'none');
    assert.match(readSettings(raw({}, { elevation: 'root' })).problems[0] ?? '', /kubeForward\.elevation/);
  });
});
