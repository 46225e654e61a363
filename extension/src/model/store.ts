import * as vscode from 'vscode';
import type {
  EngineEvent, EngineState, ForwardInfo, ForwardMetrics, HttpRecord, NamespaceInfo, PrivilegeInfo,
} from '../../../sidecar/src/protocol/types';

export interface StoreChange {
  /** Forward ids that changed or were removed; undefined: everything may have changed. */
  ids?: string[];
  namespaces?: boolean;
}

const HTTP_KEEP = 1000;
const EVENTS_KEEP = 500;

/** What the extension knows of the sidecar's state, kept current by its notifications. */
export class ForwardStore implements vscode.Disposable {
  private readonly forwardsById = new Map<string, ForwardInfo>();
  private namespaceList: NamespaceInfo[] = [];
  private privilegeInfo: PrivilegeInfo | undefined;
  private readonly metricsById = new Map<string, ForwardMetrics>();
  private readonly httpRecords: HttpRecord[] = [];
  private readonly eventList: EngineEvent[] = [];
  private readonly changeEmitter = new vscode.EventEmitter<StoreChange>();
  private readonly metricsEmitter = new vscode.EventEmitter<ForwardMetrics[]>();
  private readonly httpEmitter = new vscode.EventEmitter<HttpRecord[]>();
  private readonly eventEmitter = new vscode.EventEmitter<EngineEvent[]>();
  readonly onDidChange = this.changeEmitter.event;
  readonly onDidMetrics = this.metricsEmitter.event;
  readonly onDidHttp = this.httpEmitter.event;
  readonly onDidEvents = this.eventEmitter.event;

  reset(state?: EngineState): void {
    this.forwardsById.clear();
    this.metricsById.clear();
    for (const f of state?.forwards ?? []) this.forwardsById.set(f.id, f);
    this.namespaceList = state?.namespaces ?? [];
    this.privilegeInfo = state?.privileges;
    this.changeEmitter.fire({ namespaces: true });
  }

  applyChange(changed: ForwardInfo[], removed: string[], state?: EngineState): void {
    for (const f of changed) this.forwardsById.set(f.id, f);
    for (const id of removed) {
      this.forwardsById.delete(id);
      this.metricsById.delete(id);
    }
    let namespaces = false;
    if (state) {
      namespaces = JSON.stringify(state.namespaces) !== JSON.stringify(this.namespaceList);
      this.namespaceList = state.namespaces;
      this.privilegeInfo = state.privileges;
    }
    this.changeEmitter.fire({ ids: [...changed.map((f) => f.id), ...removed], namespaces });
  }

  applyMetrics(metrics: ForwardMetrics[]): void {
    for (const m of metrics) this.metricsById.set(m.id, m);
    this.metricsEmitter.fire(metrics);
  }

  applyHttp(records: HttpRecord[]): void {
    this.httpRecords.push(...records);
    if (this.httpRecords.length > HTTP_KEEP) this.httpRecords.splice(0, this.httpRecords.length - HTTP_KEEP);
    this.httpEmitter.fire(records);
  }

  applyEvents(events: EngineEvent[]): void {
    this.eventList.push(...events);
    if (this.eventList.length > EVENTS_KEEP) this.eventList.splice(0, this.eventList.length - EVENTS_KEEP);
    this.eventEmitter.fire(events);
  }

  get forwards(): ForwardInfo[] {
    return [...this.forwardsById.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  forward(id: string): ForwardInfo | undefined {
    return this.forwardsById.get(id);
  }

  get namespaces(): NamespaceInfo[] {
    return this.namespaceList;
  }

  get privileges(): PrivilegeInfo | undefined {
    return this.privilegeInfo;
  }

  get metrics(): ForwardMetrics[] {
    return [...this.metricsById.values()];
  }

  get http(): HttpRecord[] {
    return [...this.httpRecords];
  }

  get events(): EngineEvent[] {
    return [...this.eventList];
  }

  dispose(): void {
    for (const e of [this.changeEmitter, this.metricsEmitter, this.httpEmitter, this.eventEmitter]) e.dispose();
  }
}
