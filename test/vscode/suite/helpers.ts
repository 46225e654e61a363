import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { KubeForwardApi } from '../../../extension/src/api';
import * as http from 'node:http';
import { waitFor } from '../../cluster/wait';

/** Polls until `check` returns a value (the cluster tooling's waitFor, 100 ms apart). */
export function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  return waitFor(what, check, timeoutMs, 100);
}

export function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** The extension's API, once activation finished. */
export async function api(): Promise<KubeForwardApi> {
  const extension = vscode.extensions.getExtension<KubeForwardApi>('kube-forward.kube-forward');
  assert.ok(extension, 'the extension is installed from source');
  const exported = extension.isActive ? extension.exports : await extension.activate();
  await exported.ready;
  return exported;
}

