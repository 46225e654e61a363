import type { EngineEvent, ForwardInfo, ForwardMetrics, HttpRecord } from '../../sidecar/src/protocol/types';

/** extension → traffic panel */
export type ToPanel =
  | { type: 'init'; forwards: ForwardInfo[]; metrics: ForwardMetrics[]; http: HttpRecord[]; events: EngineEvent[]; sidecar: string }
  | { type: 'forwards'; forwards: ForwardInfo[] }
  | { type: 'metrics'; metrics: ForwardMetrics[] }
  | { type: 'http'; records: HttpRecord[] }
  | { type: 'events'; events: EngineEvent[] }
  | { type: 'sidecar'; state: string; error?: string };

/** traffic panel → extension */
export type FromPanel =
  | { type: 'ready' }
  | { type: 'showLogs' }
  | { type: 'copy'; text: string };

/** What the page keeps across reloads (vscode.setState). */
export interface PanelState {
  tab: 'forwards' | 'http' | 'events';
  filter: string;
}
