import * as fs from 'node:fs';
import * as hostile from 'hostile';
import { KubeForwardError, messageOf } from '../errors';
import { parseHosts, stripDeadOwners, stripOwner, withBlock, type HostEntry, type MalformedMarker } from './block';
import { currentOwner, isOwnerAlive } from './owner';
import { validateEntries, validateOwner } from './validate';
import { writeAtomic, writeAtomicSync, type WriteMethod } from './writer';

/**
 * This process's block in the hosts file. Others (people, other tools, other sidecars) edit the
 * file while we run, so it is read again before every write and only our block is touched;
 * many changes in a short while become one write.
 */

export interface HostsFileManagerOptions {
  /** Marker owner token; default: this process (pid and start time). */
  owner?: string;
  /** Changes within this window become one write. */
  batchMs?: number;
  /** Called after each write that changed the file (tests count writes with it). */
  onWrite?: (method: WriteMethod) => void;
  /** Liveness of another block's owner; default: the process table. */
  isAlive?: (owner: string) => boolean;
}

export interface RemovedBlock {
  owner: string;
  entries: HostEntry[];
}

export interface PurgeResult {
  removed: RemovedBlock[];
  /** Marker lines that do not pair up, left in the file as they are. */
  malformed: MalformedMarker[];
}

export interface HostConflict {
  name: string;
  /** The IP our entries give the name. */
  ip: string;
  /** Other IPs the file maps it to outside our block. */
  elsewhere: string[];
}

interface Batch {
  entries: HostEntry[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

// Latin-1 maps every byte to one character and back, so bytes that are not UTF-8 survive.
const ENCODING = 'latin1';

function readFailed(path: string, error: unknown): KubeForwardError {
  return new KubeForwardError('HOSTS_READ_FAILED', `cannot read the hosts file ${path}: ${messageOf(error)} (check the path given with --hosts-path and its permissions)`);
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function copyEntries(entries: readonly HostEntry[]): HostEntry[] {
  return entries.map(({ ip, names }) => ({ ip, names: [...names] }));
}

export class HostsFileManager {
  readonly owner: string;
  private readonly batchMs: number;
  private readonly isAlive: (owner: string) => boolean;
  private batch: Batch | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Every read-modify-write goes through this chain, so two never interleave. */
  private queue: Promise<unknown> = Promise.resolve();
  private writeCount = 0;

  constructor(readonly path: string, private readonly options: HostsFileManagerOptions = {}) {
    this.owner = options.owner ?? currentOwner();
    validateOwner(this.owner);
    this.batchMs = options.batchMs ?? 50;
    this.isAlive = options.isAlive ?? ((owner) => isOwnerAlive(owner));
  }

  /** Writes that changed the file so far. */
  get writes(): number {
    return this.writeCount;
  }

  /** Replaces our block's entries. Resolves once they are in the file; invalid input rejects and touches nothing. */
  set(entries: readonly HostEntry[]): Promise<void> {
    try {
      validateEntries(entries);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.batch) {
      this.batch.entries = copyEntries(entries);
      return this.batch.promise;
    }
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.batch = { entries: copyEntries(entries), promise, resolve, reject };
    this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.batchMs);
    return promise;
  }

  /** Writes a pending batch now; resolves when every write asked for so far is done. */
  flush(): Promise<void> {
    const batch = this.takeBatch();
    if (!batch) return this.queue.then(() => undefined, () => undefined);
    const run = this.enqueue(() => this.apply((text) => withBlock(text, this.owner, batch.entries)));
    run.then(batch.resolve, batch.reject);
    return run.then(() => undefined);
  }

  /** Removes blocks whose owners are gone (a crashed run); other owners' and ours stay. */
  purgeStale(): Promise<PurgeResult> {
    return this.enqueue(async () => {
      let result: PurgeResult = { removed: [], malformed: [] };
      await this.apply((text) => {
        const stripped = stripDeadOwners(text, this.isAlive, this.owner);
        result = {
          removed: stripped.removed.map(({ owner, entries }) => ({ owner, entries })),
          malformed: parseHosts(text).malformed,
        };
        return stripped.text;
      });
      return result;
    });
  }

  /** Removes our block; a pending batch is dropped (its promise resolves). Idempotent. */
  clear(): Promise<void> {
    this.takeBatch()?.resolve();
    return this.enqueue(() => this.apply((text) => stripOwner(text, this.owner).text));
  }

  /** clear() for process 'exit' handlers: synchronous, so it completes before the process ends. */
  clearSync(): void {
    this.takeBatch()?.resolve();
    const before = this.readSync();
    if (before === undefined) return;
    const after = stripOwner(before, this.owner).text;
    if (after === before) return;
    this.recordWrite(writeAtomicSync(this.path, Buffer.from(after, ENCODING)));
  }

  /** Names of `entries` that the file maps to another IP outside our block (hostile parses the lines). */
  async conflicts(entries: readonly HostEntry[]): Promise<HostConflict[]> {
    validateEntries(entries);
    const mapped = this.foreignMappings();
    const result: HostConflict[] = [];
    const seen = new Set<string>();
    for (const { ip, names } of entries) {
      for (const name of names) {
        if (seen.has(name)) continue;
        seen.add(name);
        const elsewhere = [...(mapped.get(name) ?? [])].filter((other) => other !== ip);
        if (elsewhere.length > 0) result.push({ name, ip, elsewhere });
      }
    }
    return result;
  }

  /** name (lowercase) → IPs, from every line outside our own block. */
  private foreignMappings(): Map<string, Set<string>> {
    let lines: (string | [string, string])[];
    try {
      lines = hostile.getFile(this.path, true);
    } catch (error) {
      if (isMissing(error)) return new Map();
      throw readFailed(this.path, error);
    }
    const begin = `# BEGIN kube-forward ${this.owner}`;
    const end = `# END kube-forward ${this.owner}`;
    const mapped = new Map<string, Set<string>>();
    let inOurs = false;
    for (const line of lines) {
      if (typeof line === 'string') {
        if (line.trimEnd() === begin) inOurs = true;
        else if (line.trimEnd() === end) inOurs = false;
        continue;
      }
      if (inOurs) continue;
      const [ip, hosts] = line;
      for (const name of hosts.split(/\s+/).filter((n) => n.length > 0)) {
        const key = name.toLowerCase();
        const ips = mapped.get(key) ?? new Set<string>();
        ips.add(ip);
        mapped.set(key, ips);
      }
    }
    return mapped;
  }

  private takeBatch(): Batch | undefined {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.batch;
    this.batch = undefined;
    return batch;
  }

  private enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Reads the file afresh, applies `edit` and writes when the text changed. */
  private async apply(edit: (text: string) => string): Promise<void> {
    let before: string | undefined;
    try {
      before = await fs.promises.readFile(this.path, ENCODING);
    } catch (error) {
      if (!isMissing(error)) throw readFailed(this.path, error);
    }
    const after = edit(before ?? '');
    if (after === (before ?? '')) return;
    this.recordWrite(await writeAtomic(this.path, Buffer.from(after, ENCODING), { mode: 0o644 }));
  }

  private readSync(): string | undefined {
    try {
      return fs.readFileSync(this.path, ENCODING);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw readFailed(this.path, error);
    }
  }

  private recordWrite(method: WriteMethod): void {
    this.writeCount++;
    this.options.onWrite?.(method);
  }
}
