import * as vscode from 'vscode';
import { CloseAction, ErrorAction, LanguageClient, type LanguageClientOptions } from 'vscode-languageclient/node';
import type { RequestType, RequestType0 } from 'vscode-jsonrpc';
import * as P from '../../../sidecar/src/protocol/methods';
import type { ForwardStore } from '../model/store';
import { launchSidecar, type LaunchRequest } from './launcher';
import type { ElevationPlan } from './elevation';

export type SidecarState = 'starting' | 'running' | 'stopped' | 'failed';

/** Serialises start/stop/restart (one mutex) so two restarts never race. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * The sidecar as seen from the extension: a vscode-languageclient LanguageClient over the
 * child's stdio. Crashes are never restarted silently (a restart might ask for a password
 * again); the context shows one actionable notification instead.
 */
export class SidecarClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly mutex = new Mutex();
  private readonly stateEmitter = new vscode.EventEmitter<SidecarState>();
  readonly onDidChangeState = this.stateEmitter.event;
  state: SidecarState = 'stopped';
  lastError: string | undefined;
  plan: ElevationPlan | undefined;
  private childPid: number | undefined;
  private readonly declined = { value: false };
  private stopping = false;

  constructor(private readonly output: vscode.LogOutputChannel, private readonly store: ForwardStore) {}

  private setState(state: SidecarState, error?: string): void {
    this.state = state;
    this.lastError = error;
    this.stateEmitter.fire(state);
  }

  start(request: Omit<LaunchRequest, 'log'>, why: string): Promise<void> {
    return this.mutex.run(async () => {
      if (this.client) return;
      this.output.info(`starting the sidecar: ${why}`);
      this.setState('starting');
      const options: LanguageClientOptions = {
        documentSelector: [],
        outputChannel: this.output,
        errorHandler: {
          error: () => ({ action: ErrorAction.Continue }),
          closed: () => {
            if (!this.stopping) this.setState('failed', 'the sidecar exited unexpectedly');
            return { action: CloseAction.DoNotRestart, handled: true };
          },
        },
        initializationFailedHandler: (error) => {
          this.setState('failed', error instanceof Error ? error.message : String(error));
          return false;
        },
      };
      const client = new LanguageClient('kubeForward', 'Kube Forward sidecar', async () => {
        const launched = await launchSidecar({ ...request, log: (line) => this.output.info(line) }, this.declined);
        this.plan = launched.plan;
        this.childPid = launched.process.pid;
        return launched.process;
      }, options);
      client.onNotification(P.StateChanged.type, (p) => this.store.applyChange(p.forwards, p.removed, p.state));
      client.onNotification(P.Metrics.type, (p) => this.store.applyMetrics(p.metrics));
      client.onNotification(P.HttpRequests.type, (p) => this.store.applyHttp(p.records));
      client.onNotification(P.Events.type, (p) => this.store.applyEvents(p.events));
      client.onNotification(P.Log.type, (p) => {
        const line = p.message;
        if (p.level === 'error') this.output.error(line);
        else if (p.level === 'warn') this.output.warn(line);
        else if (p.level === 'debug') this.output.debug(line);
        else this.output.info(line);
      });
      this.client = client;
      try {
        await client.start();
      } catch (error) {
        this.client = undefined;
        const message = error instanceof Error ? error.message : String(error);
        this.setState('failed', message);
        throw error;
      }
      this.store.reset(await client.sendRequest(P.GetState.type));
      this.setState('running');
    });
  }

  stop(why: string, timeoutMs = 5000): Promise<void> {
    return this.mutex.run(async () => {
      const client = this.client;
      if (!client) return;
      this.output.info(`stopping the sidecar: ${why}`);
      this.stopping = true;
      this.client = undefined;
      try {
        await client.stop(timeoutMs);
      } catch (error) {
        this.output.warn(`the sidecar did not stop cleanly: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        this.stopping = false;
        this.store.reset();
        this.setState('stopped');
      }
    });
  }

  /** Forgets that the password prompt was declined (an explicit restart asks again). */
  forgetDecline(): void {
    this.declined.value = false;
  }

  private connected(): LanguageClient {
    if (!this.client || this.state !== 'running') throw new Error('the Kube Forward sidecar is not running');
    return this.client;
  }

  request<R>(type: RequestType0<R, void>): Promise<R>;
  request<Q, R>(type: RequestType<Q, R, void>, params: Q): Promise<R>;
  request<Q, R>(type: RequestType0<R, void> | RequestType<Q, R, void>, params?: Q): Promise<R> {
    const client = this.connected();
    // The generic overloads of sendRequest do not narrow RequestParam<Q> for an open Q.
    return params === undefined ? client.sendRequest(type as RequestType0<R, void>) : client.sendRequest(type as RequestType<Q, R, void>, params as never);
  }

  get pid(): number | undefined {
    return this.client ? this.childPid : undefined;
  }

  dispose(): void {
    void this.stop('extension disposed');
    this.stateEmitter.dispose();
  }
}
