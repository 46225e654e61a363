import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../cluster/paths';
import { startVsCode, workbenchUrl, type SessionOptions } from './harness';

export interface SuiteResult {
  exitCode: number | undefined;
  passed: string[];
  failed: { title: string; error: string }[];
  logs: string[];
}

/**
 * Runs the mocha suite in a real extension host: opens the workbench with extensionTestsPath,
 * and waits for the workbench's codeAutomationExit call and the results file (with a deadline:
 * a crashed host never calls back).
 */
export async function runExtensionSuite(options: Omit<SessionOptions, 'testsPath'> & { suite?: string; timeoutMs?: number }): Promise<SuiteResult> {
  const resultsFile = path.join(repoRoot, '.test-artifacts', `${options.name}-results.json`);
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  fs.rmSync(resultsFile, { force: true });
  const session = await startVsCode({ ...options, env: { ...options.env, KF_VSCODE_RESULTS: resultsFile, ...(options.suite ? { KF_VSCODE_SUITE: options.suite } : {}) } });
  try {
    let exitCode: number | undefined;
    const exited = new Promise<void>((resolve) => {
      void session.page.exposeFunction('codeAutomationExit', (code: number) => {
        exitCode = code;
        resolve();
      });
    });
    await session.page.exposeFunction('codeAutomationLog', (level: string, args: unknown[]) => {
      session.logs.push(`[${level}] ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`);
    });
    const response = await session.page.goto(workbenchUrl(session, path.join(repoRoot, 'out', 'test', 'vscode', 'suite', 'index.js')));
    if (!response || response.status() !== 200) throw new Error(`the workbench answered ${response?.status() ?? 'nothing'}`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.timeoutMs ?? 300_000);
    })]);
    clearTimeout(timer);
    await session.page.screenshot({ path: path.join(session.artifacts, 'final.png') }).catch(() => undefined);
    const results = fs.existsSync(resultsFile)
      ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as Pick<SuiteResult, 'passed' | 'failed'>
      : { passed: [], failed: [{ title: 'the suite', error: `no results (exit code ${String(exitCode)}); window log in ${session.artifacts}` }] };
    return { exitCode, ...results, logs: session.logs };
  } finally {
    await session.stop();
  }
}
