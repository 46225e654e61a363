/// <reference lib="dom" />
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { panelHtml } from '../../extension/src/traffic/html';
import type { ForwardInfo, ForwardMetrics } from '../../sidecar/src/protocol/types';
import { repoRoot } from '../cluster/paths';

const COUNT = 200;

function forward(i: number): ForwardInfo {
  const name = `svc-${String(i).padStart(4, '0')}`;
  return {
    id: `${name}.scale.admin`, serviceId: `${name}.scale.admin`, context: 'admin', namespace: 'scale', service: name, kind: 'service',
    headless: false, ip: `127.1.${27 + Math.floor(i / 254)}.${(i % 254) + 1}`, hostnames: [name], pod: `${name}-pod`,
    ports: [{ protocol: 'TCP', port: 80, localPort: 80, targetPort: 8080 }], status: 'Active', since: 0,
  };
}

function metrics(i: number, tick: number): ForwardMetrics {
  return { id: forward(i).id, bytesIn: tick * 1000 + i, bytesOut: tick * 10, rateIn: 1000, rateOut: 10, openConnections: tick % 3,
    totalConnections: tick, historyIn: Array.from({ length: 60 }, (_, k) => (k * i) % 97), historyOut: Array.from({ length: 60 }, () => 1) };
}

let browser: Browser;
let page: Page;

describe('traffic panel page under load (real dist/webview.js in Chromium)', () => {
  before(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const script = fs.readFileSync(path.join(repoRoot, 'dist', 'webview.js'), 'utf8');
    await page.route('http://panel.test/**', (route) => route.request().url().endsWith('/webview.js')
      ? route.fulfill({ contentType: 'text/javascript', body: script })
      : route.fulfill({ contentType: 'text/html', body: panelHtml('http://panel.test', 'http://panel.test/webview.js', 'testnonce') }));
    await page.addInitScript(() => {
      const w = window as unknown as { acquireVsCodeApi: () => unknown; posted: unknown[]; frameGaps: number[] };
      w.posted = [];
      w.frameGaps = [];
      let last = performance.now();
      const tick = () => {
        const now = performance.now();
        w.frameGaps.push(now - last);
        last = now;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      let state: unknown;
      w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => w.posted.push(m), getState: () => state, setState: (s: unknown) => { state = s; } });
    });
    await page.goto('http://panel.test/index.html');
    await page.waitForFunction(() => (window as unknown as { posted: { type: string }[] }).posted.some((m) => m.type === 'ready'));
  });
  after(async () => {
    await browser?.close();
  });

  it('renders 200 forwards and keeps up with 10 updates a second for 5 s', async () => {
    const forwards = Array.from({ length: COUNT }, (_, i) => forward(i));
    await page.evaluate((init) => window.postMessage(init, '*'), { type: 'init', forwards, metrics: [], http: [], events: [], sidecar: 'running' });
    await page.waitForFunction((n) => document.querySelectorAll('#forwards-body tr').length === n, COUNT);
    await page.evaluate(() => { (window as unknown as { frameGaps: number[] }).frameGaps.length = 0; });
    const started = Date.now();
    for (let tick = 1; tick <= 50; tick++) {
      const batch = Array.from({ length: COUNT }, (_, i) => metrics(i, tick));
      await page.evaluate((m) => window.postMessage({ type: 'metrics', metrics: m }, '*'), batch);
      await new Promise((r) => setTimeout(r, Math.max(0, started + tick * 100 - Date.now())));
    }
    await page.waitForFunction(() => document.querySelector('#forwards-body tr:last-child')?.textContent?.includes('49 KB'));
    const gaps = await page.evaluate(() => (window as unknown as { frameGaps: number[] }).frameGaps);
    const sorted = [...gaps].sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    console.log(`panel load: ${COUNT} rows, 50 updates in ${Date.now() - started} ms; frames ${gaps.length}, p99 frame gap ${p99.toFixed(1)} ms, max ${Math.max(...gaps).toFixed(1)} ms`);
    assert.equal(await page.locator('#forwards-body tr').count(), COUNT);
    assert.ok(gaps.length > 20, 'the page kept rendering frames while updates arrived');
    await page.screenshot({ path: path.join(repoRoot, '.test-artifacts', 'panel-load.png') });
  });
});
