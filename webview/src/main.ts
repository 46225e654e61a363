import {
  provideVSCodeDesignSystem, vsCodeBadge, vsCodeButton, vsCodePanels, vsCodePanelTab, vsCodePanelView, vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import type { EngineEvent, ForwardInfo, ForwardMetrics, HttpRecord } from '../../sidecar/src/protocol/types';
import { bytes, escapeHtml, rate, sparklinePoints, time } from './format';
import type { FromPanel, PanelState, ToPanel } from './messages';

provideVSCodeDesignSystem().register(vsCodePanels(), vsCodePanelTab(), vsCodePanelView(), vsCodeTextField(), vsCodeBadge(), vsCodeButton());

interface VsCodeApi {
  postMessage(message: FromPanel): void;
  getState(): PanelState | undefined;
  setState(state: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

const state: PanelState = vscode.getState() ?? { tab: 'forwards', filter: '' };
const forwards = new Map<string, ForwardInfo>();
const metrics = new Map<string, ForwardMetrics>();
let http: HttpRecord[] = [];
let events: EngineEvent[] = [];
const HTTP_KEEP = 1000;
const EVENTS_KEEP = 500;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

// Rendering is batched into one animation frame however many messages arrive (10/s × 200 rows).
const dirty = { forwards: false, http: false, events: false };
let frame = 0;
function schedule(part: keyof typeof dirty): void {
  dirty[part] = true;
  if (!frame) frame = requestAnimationFrame(render);
}

/** One table row, built once; updates touch only the cells whose text changed. */
interface Row {
  tr: HTMLTableRowElement;
  cells: HTMLTableCellElement[];
  line: SVGPolylineElement;
  staticKey: string;
}

const rows = new Map<string, Row>();
const SVG = 'http://www.w3.org/2000/svg';

function staticCells(f: ForwardInfo): string {
  const ports = f.ports.map((p) => (p.skipped ? `<s title="${escapeHtml(p.skipped)}">${p.port}/${p.protocol}</s>` : `${p.localPort}`)).join(', ');
  return `<td class="svc" title="${escapeHtml(f.id)}">${escapeHtml(f.headless && f.pod && f.id !== f.serviceId ? `${f.pod}.${f.service}` : f.service)}<span class="ns">.${escapeHtml(f.namespace)}</span></td>`
    + `<td>${escapeHtml(f.ip || '—')}</td><td>${ports}</td><td class="pod" title="${escapeHtml(f.pod ?? '')}">${escapeHtml(f.pod ?? '—')}</td>`
    + `<td class="st st-${f.status.toLowerCase()}" title="${escapeHtml(f.reason ?? '')}">${f.status}${f.reason ? `<span class="reason">${escapeHtml(f.reason.length > 40 ? `${f.reason.slice(0, 39)}…` : f.reason)}</span>` : ''}</td>`
    + '<td class="num"></td><td class="num"></td><td class="num"></td><td></td><td class="num"></td>';
}

function makeRow(id: string): Row {
  const tr = document.createElement('tr');
  tr.dataset.id = id;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', '80');
  svg.setAttribute('height', '18');
  svg.setAttribute('viewBox', '0 0 80 18');
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', 'currentColor');
  line.setAttribute('stroke-width', '1.2');
  svg.appendChild(line);
  return { tr, cells: [], line, staticKey: '' };
}

function setText(cell: HTMLTableCellElement | undefined, text: string): void {
  if (cell && cell.textContent !== text) cell.textContent = text;
}

function updateRow(row: Row, f: ForwardInfo): void {
  const key = staticCells(f);
  if (row.staticKey !== key) {
    row.tr.innerHTML = key;
    row.staticKey = key;
    row.cells = [...row.tr.cells];
    row.cells[8]?.appendChild(row.line.ownerSVGElement ?? row.line);
  }
  const m = metrics.get(f.id);
  setText(row.cells[5], bytes(m?.bytesIn ?? 0));
  setText(row.cells[6], bytes(m?.bytesOut ?? 0));
  setText(row.cells[7], rate((m?.rateIn ?? 0) + (m?.rateOut ?? 0)));
  setText(row.cells[9], String(m?.openConnections ?? 0));
  const points = sparklinePoints(m?.historyIn ?? [], m?.historyOut ?? []);
  if (row.line.getAttribute('points') !== points) row.line.setAttribute('points', points);
}

function renderForwards(): void {
  const body = $<HTMLTableSectionElement>('forwards-body');
  const ids = [...forwards.keys()].sort();
  for (const [id, row] of rows) {
    if (!forwards.has(id)) {
      row.tr.remove();
      rows.delete(id);
    }
  }
  let previous: HTMLTableRowElement | null = null;
  for (const id of ids) {
    const f = forwards.get(id);
    if (!f) continue;
    let row = rows.get(id);
    if (!row) {
      row = makeRow(id);
      rows.set(id, row);
    }
    updateRow(row, f);
    const expected: ChildNode | null = previous ? previous.nextSibling : body.firstChild;
    if (expected !== row.tr) body.insertBefore(row.tr, expected);
    previous = row.tr;
  }
  $('forward-count').textContent = String(ids.length);
  $('empty-forwards').hidden = ids.length > 0;
}

function matches(r: HttpRecord, filter: string): boolean {
  if (!filter) return true;
  const text = `${r.method} ${r.path} ${r.status ?? ''} ${r.service}.${r.namespace} ${r.pod ?? ''}`.toLowerCase();
  return filter.toLowerCase().split(/\s+/).every((word) => text.includes(word));
}

function renderHttp(): void {
  const shown = http.filter((r) => matches(r, state.filter)).slice(-300).reverse();
  $('http-body').innerHTML = shown.map((r) => `<tr><td>${time(r.time)}</td><td>${escapeHtml(r.method)}</td><td class="path">${escapeHtml(r.path)}</td>`
    + `<td class="${(r.status ?? 0) >= 500 ? 'bad' : (r.status ?? 0) >= 400 ? 'warn' : ''}">${r.status ?? '…'}</td>`
    + `<td class="num">${r.latencyMs !== undefined ? `${r.latencyMs} ms` : ''}</td><td>${escapeHtml(`${r.service}.${r.namespace}`)}</td><td>${escapeHtml(r.pod ?? '')}</td></tr>`).join('');
  $('http-count').textContent = String(http.length);
  $('empty-http').hidden = http.length > 0;
}

function renderEvents(): void {
  $('events-body').innerHTML = events.slice(-300).reverse().map((e) =>
    `<tr class="lvl-${e.level}"><td>${time(e.time)}</td><td>${e.level}</td><td>${escapeHtml(e.message)}</td></tr>`).join('');
}

function render(): void {
  frame = 0;
  if (dirty.forwards) renderForwards();
  if (dirty.http) renderHttp();
  if (dirty.events) renderEvents();
  dirty.forwards = dirty.http = dirty.events = false;
}

window.addEventListener('message', (event: MessageEvent<ToPanel>) => {
  const message = event.data;
  switch (message.type) {
    case 'init':
      forwards.clear();
      metrics.clear();
      for (const f of message.forwards) forwards.set(f.id, f);
      for (const m of message.metrics) metrics.set(m.id, m);
      http = message.http.slice(-HTTP_KEEP);
      events = message.events.slice(-EVENTS_KEEP);
      $('sidecar').textContent = message.sidecar;
      schedule('forwards');
      schedule('http');
      schedule('events');
      break;
    case 'forwards':
      forwards.clear();
      for (const f of message.forwards) forwards.set(f.id, f);
      schedule('forwards');
      break;
    case 'metrics':
      for (const m of message.metrics) metrics.set(m.id, m);
      schedule('forwards');
      break;
    case 'http':
      http = http.concat(message.records).slice(-HTTP_KEEP);
      schedule('http');
      break;
    case 'events':
      events = events.concat(message.events).slice(-EVENTS_KEEP);
      schedule('events');
      break;
    case 'sidecar':
      $('sidecar').textContent = message.error ? `${message.state}: ${message.error}` : message.state;
      break;
  }
});

const filter = $<HTMLInputElement>('http-filter');
filter.value = state.filter;
filter.addEventListener('input', () => {
  state.filter = filter.value;
  vscode.setState(state);
  schedule('http');
});
const panels = $<HTMLElement & { activeid?: string }>('tabs');
panels.setAttribute('activeid', `tab-${state.tab}`);
panels.addEventListener('change', () => {
  const id = panels.activeid?.replace('tab-', '');
  if (id === 'forwards' || id === 'http' || id === 'events') {
    state.tab = id;
    vscode.setState(state);
  }
});
$('show-logs').addEventListener('click', () => vscode.postMessage({ type: 'showLogs' }));

// The handshake: the extension sends nothing until the page says it listens.
vscode.postMessage({ type: 'ready' });
