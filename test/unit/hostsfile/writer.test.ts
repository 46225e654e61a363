import assert from 'node:assert/strict';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { KubeForwardError } from '../../../sidecar/src/errors';
import { writeAtomic, writeAtomicSync, type WriteMethod } from '../../../sidecar/src/hostsfile/writer';
import { leftovers, tempDir } from './fixtures';

const tmp = tempDir();
after(() => tmp.cleanup());

type Writer = (path: string, content: string | Uint8Array, options?: { mode?: number }) => Promise<WriteMethod>;
const VARIANTS: [string, Writer][] = [
  ['writeAtomic', writeAtomic],
  ['writeAtomicSync', async (path, content, options) => writeAtomicSync(path, content, options)],
];

let counter = 0;
function fresh(variant: string): { dir: string; file: string } {
  const dir = tmp.path(`${variant}-${++counter}`);
  mkdirSync(dir);
  return { dir, file: `${dir}/hosts` };
}

for (const [variant, write] of VARIANTS) {
  describe(`${variant}`, () => {
    it('replaces the file with a new inode and leaves no temp file', async () => {
      const { dir, file } = fresh(variant);
      writeFileSync(file, 'old\n');
      const before = statSync(file).ino;
      assert.equal(await write(file, 'new content\n'), 'renamed');
      assert.equal(readFileSync(file, 'utf8'), 'new content\n');
      assert.notEqual(statSync(file).ino, before, 'rename, not an in-place rewrite');
      assert.deepEqual(leftovers(dir), []);
    });

    it('writes bytes exactly, shorter and longer than before', async () => {
      const { file } = fresh(variant);
      const bytes = Buffer.from([0x31, 0xff, 0x00, 0x0d, 0x0a, 0xe9]);
      writeFileSync(file, 'x'.repeat(10_000));
      await write(file, bytes);
      assert.deepEqual(readFileSync(file), bytes);
      await write(file, 'y'.repeat(100_000));
      assert.equal(readFileSync(file, 'utf8'), 'y'.repeat(100_000));
    });

    for (const mode of [0o600, 0o644, 0o640]) {
      it(`keeps mode ${mode.toString(8)}`, async () => {
        const { file } = fresh(variant);
        writeFileSync(file, 'old\n');
        chmodSync(file, mode);
        await write(file, 'new\n');
        assert.equal(statSync(file).mode & 0o7777, mode);
      });
    }

    it('keeps the owner and group', async () => {
      const { file } = fresh(variant);
      writeFileSync(file, 'old\n');
      chownSync(file, 1234, 5678);
      await write(file, 'new\n');
      const stat = statSync(file);
      assert.deepEqual([stat.uid, stat.gid], [1234, 5678]);
    });

    it('creates a missing file with mode 0644 whatever the umask', async () => {
      const { dir, file } = fresh(variant);
      const umask = process.umask(0o077);
      try {
        await write(file, 'hello\n');
      } finally {
        process.umask(umask);
      }
      assert.equal(statSync(file).mode & 0o7777, 0o644);
      assert.equal(readFileSync(file, 'utf8'), 'hello\n');
      assert.deepEqual(leftovers(dir), []);
    });

    it('writes through a symlinked file: the link stays a link, the target changes', async () => {
      const { dir, file } = fresh(variant);
      writeFileSync(file, 'old\n');
      chmodSync(file, 0o600);
      const link = `${dir}/link`;
      symlinkSync('hosts', link);
      await write(link, 'via link\n');
      assert.ok(lstatSync(link).isSymbolicLink());
      assert.equal(readlinkSync(link), 'hosts');
      assert.equal(readFileSync(file, 'utf8'), 'via link\n');
      assert.equal(statSync(file).mode & 0o7777, 0o600);
      assert.deepEqual(leftovers(dir), []);
    });

    it('writes through a symlinked directory, as /etc on macOS', async () => {
      const { dir, file } = fresh(variant);
      writeFileSync(file, 'old\n');
      symlinkSync(dir, `${dir}-etc`);
      await write(`${dir}-etc/hosts`, 'via dir link\n');
      assert.ok(lstatSync(`${dir}-etc`).isSymbolicLink());
      assert.equal(readFileSync(file, 'utf8'), 'via dir link\n');
    });

    it('creates the target of a dangling symlink and keeps the link', async () => {
      const { dir, file } = fresh(variant);
      symlinkSync('hosts', `${dir}/dangling`);
      await write(`${dir}/dangling`, 'created\n');
      assert.ok(lstatSync(`${dir}/dangling`).isSymbolicLink());
      assert.equal(readFileSync(file, 'utf8'), 'created\n');
    });

    it('refuses a directory and a missing directory with coded errors, leaving nothing behind', async () => {
      const { dir } = fresh(variant);
      mkdirSync(`${dir}/sub`);
      await assert.rejects(write(`${dir}/sub`, 'x'), (error: unknown) => error instanceof KubeForwardError && error.code === 'HOSTS_NOT_A_FILE');
      await assert.rejects(write(`${dir}/missing/hosts`, 'x'),
        (error: unknown) => error instanceof KubeForwardError && error.code === 'HOSTS_WRITE_FAILED' && error.message.includes(`${dir}/missing/hosts`));
      symlinkSync('loop', `${dir}/loop`);
      await assert.rejects(write(`${dir}/loop`, 'x'), KubeForwardError);
      assert.deepEqual(leftovers(dir), []);
    });
  });
}
