import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeForwardError } from '../../../sidecar/src/errors';
import { PortMapper, parsePortMapping } from '../../../sidecar/src/mapping/portMapping';

const badMapping = (pattern: RegExp) => (error: unknown): boolean => {
  assert.ok(error instanceof KubeForwardError);
  assert.equal(error.code, 'BAD_MAPPING');
  assert.match(error.message, pattern);
  return true;
};

describe('port mappings', () => {
  it('parses kubefwd\'s global form and our per-service forms', () => {
    assert.deepEqual(parsePortMapping('80:8080'), { port: 80, localPort: 8080, spec: '80:8080' });
    assert.deepEqual(parsePortMapping('web.demo:80:8080'), { service: 'web', namespace: 'demo', port: 80, localPort: 8080, spec: 'web.demo:80:8080' });
    assert.deepEqual(parsePortMapping(' Web:443:8443 '), { service: 'web', port: 443, localPort: 8443, spec: ' Web:443:8443 ' });
  });

  it('refuses malformed mappings and ports outside 1–65535 with the mapping named', () => {
    assert.throws(() => parsePortMapping('80'), badMapping(/bad port mapping "80": expected SERVICE_PORT:LOCAL_PORT/));
    assert.throws(() => parsePortMapping('a:b:c:d'), badMapping(/expected/));
    assert.throws(() => parsePortMapping('80:'), badMapping(/local port in mapping "80:": "" is not a port number from 1 to 65535/));
    assert.throws(() => parsePortMapping('0:8080'), badMapping(/service port .* "0"/));
    assert.throws(() => parsePortMapping('80:65536'), badMapping(/"65536"/));
    assert.throws(() => parsePortMapping('80:-1'), badMapping(/"-1"/));
    assert.throws(() => parsePortMapping('80:8e3'), badMapping(/"8e3"/));
    assert.throws(() => parsePortMapping('web.demo.x:80:81'), badMapping(/not SERVICE or SERVICE\.NAMESPACE/));
    assert.throws(() => parsePortMapping('web_1:80:81'), badMapping(/not SERVICE/));
  });

  it('gives the local port for a service port, most specific mapping first', () => {
    const mapper = new PortMapper(['80:8080', 'web:80:9080', 'web.demo:80:10080', '443:8443']);
    assert.equal(mapper.localPort('web', 'demo', 80), 10080);
    assert.equal(mapper.localPort('web', 'other', 80), 9080);
    assert.equal(mapper.localPort('api', 'demo', 80), 8080);
    assert.equal(mapper.localPort('api', 'demo', 443), 8443);
    assert.equal(mapper.localPort('api', 'demo', 5432), 5432);
    assert.equal(new PortMapper().localPort('api', 'demo', 80), 80);
  });

  it('refuses two mappings of one port to different local ports, accepts repeats', () => {
    assert.throws(() => new PortMapper(['80:8080', '80:9090']), badMapping(/"80:8080" and "80:9090"/));
    assert.equal(new PortMapper(['80:8080', '80:8080']).localPort('a', 'b', 80), 8080);
  });
});
