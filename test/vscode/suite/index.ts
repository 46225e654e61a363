import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/**
 * Runs inside VS Code's extension host (loaded through the workbench URL's extensionTestsPath).
 * Results go to the file named by KF_VSCODE_RESULTS as well, since the host always exits 0.
 */
export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 90_000, color: false });
  const only = process.env.KF_VSCODE_SUITE;
  for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) {
    if (!only || only.split(',').some((prefix) => file.startsWith(prefix))) mocha.addFile(path.join(__dirname, file));
  }
  const results: { passed: string[]; failed: { title: string; error: string }[] } = { passed: [], failed: [] };
  const write = () => {
    if (process.env.KF_VSCODE_RESULTS) fs.writeFileSync(process.env.KF_VSCODE_RESULTS, JSON.stringify(results, null, 2));
  };
  await new Promise<void>((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        write();
        if (failures > 0) reject(new Error(`${failures} extension test(s) failed`));
        else resolve();
      });
      runner.on('pass', (test) => results.passed.push(test.fullTitle()));
      runner.on('fail', (test, error: Error) => results.failed.push({ title: test.fullTitle(), error: error.stack ?? error.message }));
    } catch (error) {
      results.failed.push({ title: 'loading the suite', error: error instanceof Error ? error.stack ?? error.message : String(error) });
      write();
      reject(error as Error);
    }
  });
}
