// Builds the three bundles: dist/extension.js (VS Code extension host, CommonJS),
// dist/sidecar.js (plain Node program and CLI), dist/webview.js (browser).
import * as esbuild from 'esbuild';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
  define: { KUBE_FORWARD_VERSION: JSON.stringify(version) },
};

/**
 * client-node's package has no "sideEffects" field, so esbuild keeps (and Node evaluates at
 * start) every generated API client and model its config.js reaches through gen/index.js, though
 * the sidecar uses only KubeConfig. Its generated code has no side effects: marked so, only what
 * is used stays. And the undici it imports is loaded on first use (sidecar/bundle/lazy-undici.cjs).
 */
const pureClientNodeGen = {
  name: 'pure-client-node-gen',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'pure-client-node-gen' || !/client-node[\\/]dist/.test(args.importer)) return undefined;
      if (args.path === 'undici') return { path: path.resolve('sidecar/bundle/lazy-undici.cjs') };
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'pure-client-node-gen' });
      return /client-node[\\/]dist[\\/]gen[\\/]/.test(resolved.path) ? { ...resolved, sideEffects: false } : resolved;
    });
  },
};

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  {
    ...common,
    entryPoints: ['extension/src/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['sidecar/src/main.ts'],
    outfile: 'dist/sidecar.js',
    plugins: [pureClientNodeGen],
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: ['webview/src/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
];

// --sidecar-only --outfile=FILE: just the sidecar bundle, elsewhere (the bench measures a
// production copy of its own).
const outfile = process.argv.find((a) => a.startsWith('--outfile='))?.slice('--outfile='.length);
if (process.argv.includes('--sidecar-only')) {
  builds.splice(0, builds.length, { ...builds[1], ...(outfile ? { outfile } : {}) });
}

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
