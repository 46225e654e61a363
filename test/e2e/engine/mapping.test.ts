import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from '../../cluster/wait';
import { connectResult, listening, startSidecar, svcArgs, tempHosts } from '../../helpers/sidecar';
import { deploymentPods, whoAnswers } from './cluster';

/** Port mappings (-m), IP reservations (-r) and kubefwd's fwdconf YAML (-z), end to end. */

describe('mappings and reservations', () => {
  it('-m 80:8080 makes web answer on 127.1.27.x:8080 (and not on 80)', { timeout: 60_000 }, async () => {
    const hosts = tempHosts();
    const sidecar = startSidecar(svcArgs({ hostsPath: hosts.path, extra: ['-m', '80:8080'] }));
    try {
      const web = await sidecar.forward('web.demo.admin');
      assert.match(web.ip ?? '', /^127\.1\.27\.\d{1,3}$/);
      assert.equal(web.ports, '8080→80', `the output shows the mapping: ${web.line}`);
      const pods = await deploymentPods('web');
      const answer = await waitFor('web on :8080', () => whoAnswers(`http://${web.ip}:8080/`, 2000), 10_000, 50);
      assert.ok(pods.includes(answer.pod), `${answer.pod} is one of ${pods.join(', ')}`);
      assert.equal(await connectResult(web.ip ?? '', 80), 'ECONNREFUSED', 'port 80 is not bound');
      // The mapping is global: api's port 80 moves too, its 9090 stays.
      const api = await sidecar.forward('api.demo.admin');
      assert.equal(api.ports, '8080→80,9090');
    } finally {
      await sidecar.stop();
      hosts.remove();
    }
  });

  it('-r web.demo:127.1.27.50 puts web on .50', { timeout: 60_000 }, async () => {
    const hosts = tempHosts();
    const sidecar = startSidecar(svcArgs({ hostsPath: hosts.path, extra: ['-r', 'web.demo:127.1.27.50'] }));
    try {
      const web = await sidecar.forward('web.demo.admin');
      assert.equal(web.ip, '127.1.27.50');
      await waitFor('web → 127.1.27.50 in the hosts file', () => hosts.ip('web') === '127.1.27.50', 10_000, 50);
      assert.equal(hosts.ip('web.demo.svc.cluster.local'), '127.1.27.50');
      await listening('127.1.27.50', 80);
      const pods = await deploymentPods('web');
      assert.ok(pods.includes((await whoAnswers('http://127.1.27.50/')).pod));
      for (const line of sidecar.current().values()) {
        if (line.id !== 'web.demo.admin' && line.ip) assert.notEqual(line.ip, '127.1.27.50', `only web has .50: ${line.line}`);
      }
    } finally {
      await sidecar.stop();
      hosts.remove();
    }
  });

  it('a fwdconf with baseUnreservedIP 127.1.27.100 and web.demo → 127.1.27.77 is honoured', { timeout: 60_000 }, async () => {
    const hosts = tempHosts();
    const conf = path.join(hosts.dir, 'kubefwd.fwdconf.yml');
    fs.writeFileSync(conf, [
      '# kubefwd\'s parser keys (example.fwdconf.yml)',
      'baseUnreservedIP: 127.1.27.100',
      'serviceConfigurations:',
      '  - name: web.demo',
      '    ip: 127.1.27.77',
      '',
    ].join('\n'));
    const sidecar = startSidecar(svcArgs({ hostsPath: hosts.path, extra: ['-z', conf] }));
    try {
      const web = await sidecar.forward('web.demo.admin');
      assert.equal(web.ip, '127.1.27.77');
      await sidecar.forward('mysql-b.demo.admin');
      await waitFor('web → 127.1.27.77 in the hosts file', () => hosts.ip('web') === '127.1.27.77', 10_000, 50);
      await listening('127.1.27.77', 80);
      const pods = await deploymentPods('web');
      assert.ok(pods.includes((await whoAnswers('http://127.1.27.77/')).pod));
      const others = [...sidecar.current().values()].filter((l) => l.id !== 'web.demo.admin' && l.ip);
      assert.ok(others.length >= 8, `the other services are forwarded: ${others.map((l) => l.id).join(', ')}`);
      for (const line of others) {
        const m = /^127\.1\.27\.(\d+)$/.exec(line.ip ?? '');
        assert.ok(m && Number(m[1]) >= 100, `unreserved services get IPs from 127.1.27.100 up: ${line.line}`);
      }
      assert.ok(others.some((l) => l.ip === '127.1.27.100'), 'the first unreserved service gets the base IP');
    } finally {
      await sidecar.stop();
      hosts.remove();
    }
  });
});
