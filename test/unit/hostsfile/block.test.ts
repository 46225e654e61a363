import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeForwardError } from '../../../sidecar/src/errors';
import { parseHosts, renderBlock, stripDeadOwners, stripOwner, withBlock } from '../../../sidecar/src/hostsfile/block';

const ME = 'pid=4242,start=777';
const OTHER = 'pid=5151,start=888';
const web = [{ ip: '127.1.27.1', names: ['web', 'web.demo'] }];
const db = [{ ip: '127.1.27.2', names: ['db', 'db.demo'] }];

/** Files as people and tools leave them: the bytes a block's removal must give back exactly. */
const ORIGINALS: Record<string, string> = {
  empty: '',
  'one line, no final newline': '127.0.0.1 localhost',
  'LF with comments': '# comment\n127.0.0.1\tlocalhost   # local\n\n::1 localhost ip6-localhost\n',
  'CRLF': '127.0.0.1 localhost\r\n# windows\r\n',
  'CRLF, no final newline': '127.0.0.1 localhost\r\n10.0.0.1 intranet',
  'trailing blank lines and spaces': '127.0.0.1 localhost\n\n   \n\t\n',
  'a lone CR at the end': '127.0.0.1 localhost\r',
  'bytes that are not UTF-8 (read as latin1)': '127.0.0.1 localhost # caf\xe9 \xff\xfe\n',
  'another owner\'s block': `127.0.0.1 localhost\n# BEGIN kube-forward ${OTHER}\n127.1.27.9 other\n# END kube-forward ${OTHER}\n# after\n`,
  'another tool\'s block': '# BEGIN docker\n10.0.0.2 host.docker.internal\n# END docker\n',
  'only newlines': '\n\n',
};

describe('hosts block rendering', () => {
  it('renders one line per IP between the owner markers', () => {
    assert.equal(renderBlock(ME, [...web, ...db]),
      `# BEGIN kube-forward ${ME}\n127.1.27.1 web web.demo\n127.1.27.2 db db.demo\n# END kube-forward ${ME}\n`);
    assert.equal(renderBlock(ME, web, '\r\n'), `# BEGIN kube-forward ${ME}\r\n127.1.27.1 web web.demo\r\n# END kube-forward ${ME}\r\n`);
  });

  it('de-duplicates names, merges repeated IPs and drops IPs without names', () => {
    const text = renderBlock(ME, [
      { ip: '127.1.27.1', names: ['web', 'web', 'web.demo'] },
      { ip: '127.1.27.2', names: ['web', 'api'] },
      { ip: '127.1.27.1', names: ['www', 'web.demo'] },
      { ip: '127.1.27.3', names: [] },
    ]);
    assert.equal(text, `# BEGIN kube-forward ${ME}\n127.1.27.1 web web.demo www\n127.1.27.2 api\n# END kube-forward ${ME}\n`);
  });

  it('refuses bad names, IPs and owners', () => {
    const invalid = (error: unknown) => error instanceof KubeForwardError && error.code === 'INVALID_HOST_ENTRY';
    assert.throws(() => renderBlock(ME, [{ ip: '192.168.1.1', names: ['web'] }]), invalid);
    assert.throws(() => renderBlock(ME, [{ ip: '127.0.0.1', names: ['web\n8.8.8.8 evil'] }]), invalid);
    assert.throws(() => renderBlock('me\n127.0.0.1 evil', web), invalid);
    assert.throws(() => withBlock('keep\n', ME, [{ ip: '127.0.0.1', names: ['UPPER'] }]), invalid);
  });

  it('parses what it renders', () => {
    const text = `# head\n${renderBlock(ME, [...web, ...db])}# tail\n`;
    const parsed = parseHosts(text);
    assert.deepEqual(parsed.blocks.map((b) => ({ owner: b.owner, entries: b.entries })), [{ owner: ME, entries: [...web, ...db] }]);
    assert.equal(parsed.outside, '# head\n# tail\n');
    assert.deepEqual(parsed.malformed, []);
  });
});

describe('hosts block editing keeps every other byte', () => {
  for (const [name, original] of Object.entries(ORIGINALS)) {
    it(`adds and removes our block: ${name}`, () => {
      const added = withBlock(original, ME, web);
      assert.ok(added.includes(`# BEGIN kube-forward ${ME}`));
      assert.ok(added.startsWith(original));
      const parsed = parseHosts(added);
      assert.deepEqual(parsed.blocks.filter((b) => b.owner === ME).map((b) => b.entries), [web]);
      assert.equal(stripOwner(added, ME).text, original);
      assert.equal(withBlock(added, ME, []), original, 'no entries: no block');
      // Replacing and then removing still gives the original back.
      assert.equal(stripOwner(withBlock(added, ME, db), ME).text, original);
    });
  }

  it('writes our lines with the file\'s own line break', () => {
    const added = withBlock('127.0.0.1 localhost\r\n', ME, web);
    assert.equal(added, `127.0.0.1 localhost\r\n# BEGIN kube-forward ${ME}\r\n127.1.27.1 web web.demo\r\n# END kube-forward ${ME}\r\n`);
    assert.equal(withBlock('a', ME, web), `a\n# BEGIN kube-forward ${ME}\n127.1.27.1 web web.demo\n# END kube-forward ${ME}`);
  });

  it('replaces our block where it stands, leaving text around it alone', () => {
    const before = '# top\r\n127.0.0.1 localhost\r\n';
    const after = '# user line added later\n10.0.0.1 intranet';
    const text = before + renderBlock(ME, web, '\r\n') + after;
    assert.equal(withBlock(text, ME, db), before + renderBlock(ME, db, '\r\n') + after);
  });

  it('folds duplicate blocks of the same owner into the first', () => {
    const text = `a\n${renderBlock(ME, web)}b\n${renderBlock(ME, db)}c\n`;
    assert.equal(withBlock(text, ME, db), `a\n${renderBlock(ME, db)}b\nc\n`);
  });

  it('removes several blocks at the end of a file without a final newline in any order', () => {
    const text = withBlock(withBlock('a', ME, web), OTHER, db);
    assert.equal(stripOwner(stripOwner(text, ME).text, OTHER).text, 'a');
    assert.equal(stripOwner(stripOwner(text, OTHER).text, ME).text, 'a');
    assert.equal(stripDeadOwners(text, () => false).text, 'a');
  });
});

describe('malformed blocks', () => {
  it('never lets a BEGIN without END swallow the rest of the file', () => {
    const text = `127.0.0.1 localhost\n# BEGIN kube-forward ${OTHER}\n127.1.27.9 half\n10.0.0.1 users-own-line\n`;
    const parsed = parseHosts(text);
    assert.deepEqual(parsed.blocks, []);
    assert.deepEqual(parsed.malformed, [{ line: 2, text: `# BEGIN kube-forward ${OTHER}`, problem: 'BEGIN without END' }]);
    assert.equal(parsed.outside, text);
    assert.equal(stripOwner(text, OTHER).text, text);
    assert.equal(stripDeadOwners(text, () => false).text, text);
    // Our block goes after it, and comes out again cleanly.
    const added = withBlock(text, ME, web);
    assert.equal(stripOwner(added, ME).text, text);
  });

  it('finds the good block after a broken one and reports stray ENDs', () => {
    const good = renderBlock(ME, web);
    const text = `# BEGIN kube-forward ${OTHER}\nx\n${good}# END kube-forward ${OTHER}\n# END kube-forward pid=1\n`;
    const parsed = parseHosts(text);
    assert.deepEqual(parsed.blocks.map((b) => b.owner), [ME]);
    assert.deepEqual(parsed.malformed.map((m) => [m.line, m.problem]), [[1, 'BEGIN without END'], [6, 'END without BEGIN'], [7, 'END without BEGIN']]);
    assert.equal(stripOwner(text, ME).text, text.replace(good, ''));
  });

  it('does not pair a BEGIN with another owner\'s END', () => {
    const text = `# BEGIN kube-forward ${ME}\n127.1.27.1 web\n# END kube-forward ${OTHER}\n`;
    assert.deepEqual(parseHosts(text).blocks, []);
    assert.equal(stripOwner(text, ME).text, text);
  });
});

describe('dead owners', () => {
  it('removes blocks of owners that are gone, asks once per owner and never about the keeper', () => {
    const dead = 'pid=1,start=1';
    const text = `x\n${renderBlock(dead, web)}${renderBlock(OTHER, db)}${renderBlock(ME, db)}${renderBlock(dead, db)}y\n`;
    const asked: string[] = [];
    const result = stripDeadOwners(text, (owner) => {
      asked.push(owner);
      return owner !== dead;
    }, ME);
    assert.deepEqual(asked, [dead, OTHER]);
    assert.equal(result.text, `x\n${renderBlock(OTHER, db)}${renderBlock(ME, db)}y\n`);
    assert.deepEqual(result.removed.map((b) => [b.owner, b.entries]), [[dead, web], [dead, db]]);
  });
});
