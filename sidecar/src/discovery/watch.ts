import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { Backoff } from '../forward/backoff';
import { messageOf } from '../errors';
import { kubeJson, kubeResponse } from '../kube/rest';
import { WatchLines, type WatchEvent } from './watchLines';

export interface WatchHandlers<T> {
  /** Any add/update/delete, after the cache was updated. */
  onChange(kind: 'add' | 'update' | 'delete', object: T): void;
  /** The watch failed (it is restarted with backoff) or recovered (error undefined). */
  onHealth?(error: string | undefined): void;
}

/** How long the API server keeps one watch open (client-go picks 5–10 min). */
const WATCH_SECONDS = 300;

/** A watch that ends empty sooner than this counts as failed (backoff, then relist). */
const QUICK_END_MS = 200;

const key = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}/${name ?? ''}`;
const keyOf = (o: KubernetesObject) => key(o.metadata?.namespace, o.metadata?.name);

/** The watch asked for a relist (410 Gone: the resource version is too old). */
class Expired extends Error {}

/**
 * A list+watch cache of one collection: list, then watch from the list's resourceVersion,
 * re-watching when the server ends a watch, relisting on 410 Gone, and after any other error
 * relisting with backoff (reported through onHealth). A relist reports what changed meanwhile:
 * deletes for objects gone, adds and updates for the rest.
 */
export class WatchedCollection<T extends KubernetesObject> {
  private readonly cache = new Map<string, T>();
  /** list()'s answer until the cache changes (read once per service on every sync). */
  private snapshot: readonly T[] | undefined;
  private readonly backoff = new Backoff(1000, 30_000);
  private resourceVersion = '';
  private timer: NodeJS.Timeout | undefined;
  private aborter = new AbortController();
  private stopped = false;
  private failing = false;
  /** Resolves after the first list; rejects if that list fails (and the watch stops). */
  readonly synced: Promise<void>;
  private resolveSynced!: () => void;
  private rejectSynced!: (error: unknown) => void;
  private isSynced = false;

  constructor(private readonly kc: KubeConfig, private readonly path: string, private readonly handlers: WatchHandlers<T>,
    private readonly labelSelector?: string, private readonly fieldSelector?: string, private readonly watchSeconds = WATCH_SECONDS) {
    this.synced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve;
      this.rejectSynced = reject;
    });
    this.synced.catch(() => undefined);
    void this.run();
  }

  list(): readonly T[] {
    return (this.snapshot ??= [...this.cache.values()]);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(key(namespace, name));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.aborter.abort();
  }

  /** List, then watch until an error; then again after a backoff. */
  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.relist();
        this.recovered();
        for (;;) await this.watchOnce();
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof Expired) continue;
        if (!this.isSynced) {
          // The first list failing fails the start (the caller reports it); no retries behind it.
          this.stopped = true;
          return this.rejectSynced(error);
        }
        this.failing = true;
        this.handlers.onHealth?.(messageOf(error));
        await new Promise<void>((resolve) => {
          this.timer = setTimeout(resolve, this.backoff.next());
          this.timer.unref();
        });
      }
    }
  }

  private query(extra: Record<string, string>): Record<string, string | undefined> {
    return { labelSelector: this.labelSelector, fieldSelector: this.fieldSelector, ...extra };
  }

  private async relist(): Promise<void> {
    const list = await kubeJson<KubernetesListObject<T>>(this.kc, { path: this.path, query: this.query({}), signal: this.aborter.signal });
    if (this.stopped) return;
    const fresh = new Map(list.items.map((o) => [keyOf(o), o]));
    for (const [k, old] of this.cache) {
      if (!fresh.has(k)) {
        this.remove(k);
        this.handlers.onChange('delete', old);
      }
    }
    for (const [k, o] of fresh) {
      const old = this.cache.get(k);
      this.put(k, o);
      if (!old) this.handlers.onChange('add', o);
      else if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.handlers.onChange('update', o);
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    if (!this.isSynced) {
      this.isSynced = true;
      this.resolveSynced();
    }
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.backoff.reset();
    this.handlers.onHealth?.(undefined);
  }

  /** One watch request, until the server ends it (resolves) or it fails (rejects). */
  private async watchOnce(): Promise<void> {
    const res = await kubeResponse(this.kc, {
      path: this.path,
      query: this.query({ watch: 'true', resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(this.watchSeconds) }),
      signal: this.aborter.signal,
      // The server ends the watch after watchSeconds; silence well past that is a dead connection.
      idleTimeoutMs: (this.watchSeconds + 30) * 1000,
    });
    const opened = performance.now();
    let events = 0;
    await new Promise<void>((resolve, reject) => {
      const lines = new WatchLines<T>((event) => {
        events++;
        try {
          this.apply(event);
        } catch (error) {
          res.destroy();
          reject(error);
        }
      });
      res.on('data', (chunk: Buffer) => {
        try {
          lines.push(chunk);
        } catch (error) {
          res.destroy();
          reject(error);
        }
      });
      // A watch the server ends at once, empty, would otherwise be reopened in a tight loop.
      res.on('end', () => (events === 0 && performance.now() - opened < QUICK_END_MS
        ? reject(new Error(`the API server ended the watch of ${this.path} at once`)) : resolve()));
      res.on('error', reject);
      res.on('close', () => reject(new Error(`watch of ${this.path} was cut`)));
    });
  }

  private put(k: string, o: T): void {
    this.cache.set(k, o);
    this.snapshot = undefined;
  }

  private remove(k: string): void {
    this.cache.delete(k);
    this.snapshot = undefined;
  }

  private apply(event: WatchEvent<T>): void {
    if (this.stopped) return;
    if (event.type === 'ERROR') {
      const status = event.object;
      if (status.code === 410) throw new Expired(status.message ?? 'resource version too old');
      throw new Error(`watch of ${this.path}: ${status.message ?? JSON.stringify(event.object)}`);
    }
    const o = event.object;
    const version = o.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    if (event.type === 'BOOKMARK') return;
    const k = keyOf(o);
    if (event.type === 'DELETED') {
      this.remove(k);
      this.handlers.onChange('delete', o);
    } else {
      const known = this.cache.has(k);
      this.put(k, o);
      this.handlers.onChange(known ? 'update' : 'add', o);
    }
  }
}
