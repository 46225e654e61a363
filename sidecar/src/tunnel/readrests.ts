import type { Socket } from 'node:net';

/** A turn of the event loop that read this much was behind the sender: no rest after it. */
const REST_BELOW = 256 * 1024;

/**
 * Rests between reads of a socket carrying a bulk transfer. After a turn of the event loop that
 * read from it, the socket is paused for `ms`: what the sender writes meanwhile piles up in the
 * kernel and is read in one go, instead of the reader being woken for nearly every record
 * (measured on P1: 40,000 wake-ups per GiB, each one a context switch here and a wake-up call in
 * the API server that sends). A turn that read REST_BELOW or more does not rest.
 */
export class ReadRests {
  private queued = false;
  private turnBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The socket is paused for a rest now. */
  resting = false;

  /**
   * `ms` 0 turns resting off. `over()`: the owner is done (no more rests); `held()`: the owner
   * paused the socket itself, so the end of a rest leaves it paused.
   */
  constructor(private readonly socket: Socket, private readonly ms: number, private readonly over: () => boolean,
    private readonly held: () => boolean) {}

  /** Bytes read from the socket in this turn. */
  read(bytes: number): void {
    this.turnBytes += bytes;
  }

  /** The bytes read in this turn belong to a bulk transfer: rest once the turn's reads are done. */
  bulk(): void {
    if (this.ms <= 0 || this.queued || this.resting) return;
    this.queued = true;
    setImmediate(this.rest);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private readonly rest = (): void => {
    this.queued = false;
    const turnBytes = this.turnBytes;
    this.turnBytes = 0;
    if (this.over() || this.resting || turnBytes >= REST_BELOW) return;
    this.resting = true;
    this.socket.pause();
    this.timer = setTimeout(this.wake, this.ms);
    this.timer.unref();
  };

  private readonly wake = (): void => {
    this.resting = false;
    if (!this.held() && !this.over()) this.socket.resume();
  };
}
