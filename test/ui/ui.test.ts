/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { requireState } from '../cluster/state';
import { httpGet } from '../helpers/net';
import { startVsCode, workbenchUrl, type VsCodeSession } from '../vscode/harness';

let session: VsCodeSession;
let page: Page;
const shot = (name: string) => page.screenshot({ path: path.join(session.artifacts, `${name}.png`) });

/** Runs a command from the palette (retried: right after start-up the workbench may swallow F1). */
async function palette(command: string): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first();
  for (let attempt = 1; ; attempt++) {
    await page.locator('.monaco-workbench').click({ position: { x: 700, y: 450 } });
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${command}`);
    try {
      await row.waitFor({ timeout: 10_000 });
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
      await page.keyboard.press('Escape');
    }
  }
  await page.keyboard.press('Enter');
}

async function pick(label: string, multi = false): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ timeout: 30_000 });
  if (multi) {
    await row.click();
    await page.locator('.quick-input-widget', { hasText: '1 Selected' }).waitFor({ timeout: 10_000 });
    await page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' }).click();
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  } else {
    await row.click();
  }
}

function treeRow(label: string) {
  return page.locator('.pane:has(.pane-header:has-text("Forwards")) .monaco-list-row', { hasText: label });
}

function traffic(): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

describe('UI end to end: code-server + Chromium', { timeout: 300_000 }, () => {
  before(async () => {
    const state = requireState();
    session = await startVsCode({ name: 'ui', settings: { 'kubeForward.kubeconfig': state.kubeconfig } });
    page = session.page;
    const response = await page.goto(workbenchUrl(session));
    assert.equal(response?.status(), 200);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.part.activitybar .action-item a[aria-label^="Kube Forward"]').waitFor({ timeout: 60_000 });
  });
  after(async () => {
    if (page) await shot('zz-last').catch(() => undefined);
    await session?.stop();
  });

  it('forwards demo from the command palette (Forward Namespace…)', async () => {
    await palette('Kube Forward: Forward Namespace…');
    await pick('admin');
    await pick('demo', true);
    await shot('01-forward-namespace');
  });

  it('fills the tree with demo services and their IPs', async () => {
    await page.locator('.part.activitybar .action-item a[aria-label^="Kube Forward"]').click();
    await treeRow('admin').first().waitFor({ timeout: 30_000 });
    const demo = treeRow('demo').first();
    await demo.waitFor();
    if ((await demo.getAttribute('aria-expanded')) !== 'true') await demo.locator('.monaco-tl-twistie').click();
    await treeRow('demo').first().and(page.locator('[aria-expanded="true"]')).waitFor({ timeout: 10_000 });
    const web = treeRow('web').first();
    await web.waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => [...document.querySelectorAll('.monaco-list-row')].some((r) => /web/.test(r.textContent ?? '') && /127\.1\.27\.\d+/.test(r.textContent ?? '')), undefined, { timeout: 30_000 });
    assert.match(await web.innerText(), /127\.1\.27\.\d+/);
    await shot('02-tree');
  });

  it('counts the forwards in the status bar', async () => {
    const item = page.locator('.part.statusbar .statusbar-item', { has: page.locator('.codicon-plug') });
    await item.waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => {
      const el = [...document.querySelectorAll('.part.statusbar .statusbar-item')].find((e) => e.querySelector('.codicon-plug'));
      return !!el && /\d+/.test(el.textContent ?? '') && !/^\s*0\s*$/.test(el.textContent ?? '');
    }, undefined, { timeout: 30_000 });
    assert.match(await item.innerText(), /\d+/);
    await shot('03-status-bar');
  });

  it('toggles web off and on from the tree', async () => {
    const web = treeRow('web').first();
    const checkbox = web.locator('.custom-view-tree-node-item-checkbox, input[type=checkbox]').first();
    await checkbox.click();
    await page.waitForFunction(() => ![...document.querySelectorAll('.monaco-list-row')].some((r) => /^\s*web\b/.test((r.querySelector('.label-name')?.textContent ?? '')) && /127\.1\.27/.test(r.textContent ?? '')), undefined, { timeout: 30_000 });
    await shot('04-web-off');
    await treeRow('web').first().locator('.custom-view-tree-node-item-checkbox, input[type=checkbox]').first().click();
    await page.waitForFunction(() => [...document.querySelectorAll('.monaco-list-row')].some((r) => /^\s*web\b/.test((r.querySelector('.label-name')?.textContent ?? '')) && /127\.1\.27/.test(r.textContent ?? '')), undefined, { timeout: 30_000 });
    await shot('05-web-on');
  });

  it('shows bytes and an HTTP request in the traffic panel', async () => {
    const web = await treeRow('web').first().innerText();
    const ip = web.match(/127\.1\.27\.\d+/)?.[0];
    assert.ok(ip);
    await page.locator('.part.statusbar .statusbar-item', { has: page.locator('.codicon-plug') }).click();
    const frame = traffic();
    await frame.locator('#forwards-body tr', { hasText: 'web' }).first().waitFor({ timeout: 30_000 });
    const response = await httpGet(`http://${ip}/ui-test-path`);
    assert.equal(response.status, 404);
    await frame.locator('#tab-http').click();
    await frame.locator('#http-body tr', { hasText: '/ui-test-path' }).first().waitFor({ timeout: 30_000 });
    const row = await frame.locator('#http-body tr', { hasText: '/ui-test-path' }).first().innerText();
    assert.match(row, /GET/);
    assert.match(row, /404/);
    await frame.locator('#tab-forwards').click();
    // Metrics are sampled once a second: wait until web's "In" cell shows the bytes just moved.
    const webRow = frame.locator('#forwards-body tr', { hasText: 'web.demo' }).first();
    await webRow.locator('td:nth-child(6)').filter({ hasNotText: /^0 B$/ }).waitFor({ timeout: 15_000 });
    assert.match(await webRow.locator('td:nth-child(6)').innerText(), /^[1-9]\d*(\.\d)? (B|KB)$/);
    assert.match(await webRow.locator('td:nth-child(7)').innerText(), /^[1-9]\d*(\.\d)? (B|KB)$/);
    await shot('06-traffic');
  });

  it('restores the traffic panel after a window reload', async () => {
    await palette('Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const frame = traffic();
    // The serializer brought the panel back, and it started a sidecar to show (forwards made by
    // hand ended with the old extension host; autoStart ones would come back).
    await frame.locator('#tab-forwards').waitFor({ timeout: 60_000 });
    await frame.locator('#sidecar', { hasText: 'running' }).waitFor({ timeout: 60_000 });
    await shot('07-after-reload');
  });
});
