import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { Backoff } from '../forward/backoff';
import { messageOf } from '../errors';

export interface WatchHandlers<T> {
  /** Any add/update/delete, after the cache was updated. */
  onChange(kind: 'add' | 'update' | 'delete', object: T): void;
  /** The watch failed (it is restarted with backoff) or recovered (error undefined). */
  onHealth?(error: string | undefined): void;
}

/**
 * A list+watch cache (client-node's ListWatch) that restarts itself with backoff after errors:
 * ListWatch reconnects on its own after timeouts and 410s, but stops for good on other errors.
 */
export class WatchedCollection<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private readonly backoff = new Backoff(1000, 30_000);
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;
  readonly synced: Promise<void>;

  constructor(kc: KubeConfig, path: string, list: () => Promise<KubernetesListObject<T>>, private readonly handlers: WatchHandlers<T>,
    labelSelector?: string, fieldSelector?: string) {
    this.informer = new ListWatch<T>(path, new Watch(kc), list, false, labelSelector, fieldSelector);
    this.informer.on('add', (o) => this.handlers.onChange('add', o));
    this.informer.on('update', (o) => this.handlers.onChange('update', o));
    this.informer.on('delete', (o) => this.handlers.onChange('delete', o));
    this.informer.on('connect', () => {
      if (this.failing) {
        this.failing = false;
        this.backoff.reset();
        this.handlers.onHealth?.(undefined);
      }
    });
    this.informer.on('error', (error: unknown) => this.restartLater(error));
    this.synced = this.informer.start();
  }

  private restartLater(error: unknown): void {
    if (this.stopped) return;
    this.failing = true;
    this.handlers.onHealth?.(messageOf(error));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.informer.start().catch((e: unknown) => this.restartLater(e));
    }, this.backoff.next());
    this.timer.unref();
  }

  list(): readonly T[] {
    return this.informer.list();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.informer.stop();
  }
}
