/**
 * Reused memory for bytes received on a socket read into one reused buffer (`onread`): what
 * must outlive the read (a payload on its way to a local client) is copied into a block, and the
 * block is reused once every copy in it was released. Allocating a buffer per TLS record instead
 * makes garbage at the link's speed, and the collector's work grows with it.
 */
export class BlockPool {
  private readonly free: Block[] = [];

  constructor(readonly blockSize = 64 * 1024, private readonly maxFree = 64) {}

  /** Blocks ready for reuse (for tests and figures). */
  get freeCount(): number {
    return this.free.length;
  }

  take(): Block {
    const block = this.free.pop();
    if (block) {
      block.reopen();
      return block;
    }
    return new Block(this, Buffer.allocUnsafeSlow(this.blockSize));
  }

  /** Called by a block whose copies were all released and that is no longer written to. */
  giveBack(block: Block): void {
    if (this.free.length < this.maxFree) this.free.push(block);
  }
}

export class Block {
  private used = 0;
  /** Copies out, plus one while the block is its writer's current block. */
  private refs = 1;
  /** Releases one copy; passed along with it (a write callback), so it takes and ignores arguments. */
  readonly release: () => void;

  constructor(private readonly pool: BlockPool, private readonly memory: Buffer) {
    this.release = () => {
      if (--this.refs === 0) this.pool.giveBack(this);
    };
  }

  get room(): number {
    return this.memory.length - this.used;
  }

  reopen(): void {
    this.used = 0;
    this.refs = 1;
  }

  /** Copies `src` (at most `room` bytes of it) in; the copy must be released once. */
  copy(src: Uint8Array): Buffer {
    const n = Math.min(src.length, this.room);
    this.memory.set(n === src.length ? src : src.subarray(0, n), this.used);
    const view = this.memory.subarray(this.used, this.used + n);
    this.used += n;
    this.refs++;
    return view;
  }

  /** Its writer is done with it: it is reused once the copies out are released. */
  retire(): void {
    this.release();
  }
}

/**
 * One receiver's writer into a pool (a stream's): each receiver fills its own blocks, so a reader
 * that stalls holds on to its own bytes only.
 */
export class BlockWriter {
  private block: Block | undefined;

  constructor(private readonly pool: BlockPool) {}

  /** Copies `src` into pooled memory: `emit` gets each piece (one, or two across a block's end) with its release. */
  copy(src: Uint8Array, emit: (piece: Buffer, release: () => void) => void): void {
    let rest = src;
    while (rest.length > 0) {
      if (!this.block || this.block.room === 0) {
        this.block?.retire();
        this.block = this.pool.take();
      }
      const block = this.block;
      const piece = block.copy(rest);
      rest = rest.subarray(piece.length);
      emit(piece, block.release);
    }
  }

  /** No more copies: the current block goes back once its copies are released. */
  close(): void {
    this.block?.retire();
    this.block = undefined;
  }
}

/** The process's pool for received payloads (64 KiB blocks, at most 4 MiB kept idle). */
export const receivePool = new BlockPool();
