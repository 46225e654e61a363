import type { EngineEvent, EventLevel } from '../protocol/types.js';
import type { Clock } from './clock.js';
import { Ring } from './ring.js';

const SEVERITY: Record<EventLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface EventLogOptions {
  /** Events kept; the oldest go first. */
  capacity?: number;
  /** Events below this level are neither kept nor passed on. */
  level?: EventLevel;
  clock?: Pick<Clock, 'now'>;
  /** Where a throwing listener's error goes; by default a process warning. */
  onListenerError?: (error: unknown) => void;
}

export type EventListener = (event: EngineEvent) => void;

export interface EventDetails {
  forwardId?: string;
  code?: string;
}

/**
 * The engine's event log (reconnects, errors, skipped ports): a bounded ring of recent events for
 * a panel that opens late, and listeners for live delivery (typically a Throttle towards the
 * extension). It knows nothing about who displays the events.
 */
export class EventLog {
  private readonly ring: Ring<EngineEvent>;
  private readonly listeners = new Set<EventListener>();
  private readonly now: () => number;
  private readonly onListenerError: (error: unknown) => void;
  private minimum: EventLevel;

  constructor(options: EventLogOptions = {}) {
    this.ring = new Ring<EngineEvent>(options.capacity ?? 500);
    this.minimum = options.level ?? 'info';
    const clock = options.clock;
    this.now = clock ? () => clock.now() : Date.now;
    this.onListenerError =
      options.onListenerError ?? ((error) => process.emitWarning(`event listener failed: ${error instanceof Error ? error.message : String(error)}`));
  }

  get level(): EventLevel {
    return this.minimum;
  }

  set level(level: EventLevel) {
    this.minimum = level;
  }

  /** Whether events of `level` pass the filter (to skip building costly messages). */
  enabled(level: EventLevel): boolean {
    return SEVERITY[level] >= SEVERITY[this.minimum];
  }

  /** Records an event stamped now; returns it, or undefined when the level filter dropped it. */
  log(level: EventLevel, message: string, details: EventDetails = {}): EngineEvent | undefined {
    if (!this.enabled(level)) return undefined;
    const event: EngineEvent = { time: this.now(), level, message };
    if (details.forwardId !== undefined) event.forwardId = details.forwardId;
    if (details.code !== undefined) event.code = details.code;
    this.append(event);
    return event;
  }

  debug(message: string, details?: EventDetails): EngineEvent | undefined {
    return this.log('debug', message, details);
  }

  info(message: string, details?: EventDetails): EngineEvent | undefined {
    return this.log('info', message, details);
  }

  warn(message: string, details?: EventDetails): EngineEvent | undefined {
    return this.log('warn', message, details);
  }

  error(message: string, details?: EventDetails): EngineEvent | undefined {
    return this.log('error', message, details);
  }

  /** Records an event built elsewhere (keeps its time); returns whether it passed the filter. */
  record(event: EngineEvent): boolean {
    if (!this.enabled(event.level)) return false;
    this.append(event);
    return true;
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The newest `n` events (all kept ones by default), oldest first. */
  recent(n: number = this.ring.capacity): EngineEvent[] {
    return this.ring.newest(n);
  }

  get size(): number {
    return this.ring.size;
  }

  clear(): void {
    this.ring.clear();
  }

  private append(event: EngineEvent): void {
    this.ring.push(event);
    for (const listener of this.listeners) {
      // One failing listener must neither stop the others nor the engine code that logged.
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
