/**
 * Child of idleMemory.test.ts: grows V8's young generation with a burst of surviving objects,
 * then stays idle (`idle`) or keeps a core busy (`busy`) for 1.5 s while the check runs every
 * 200 ms; prints what happened as JSON.
 */
import { releaseMemoryWhenIdle, youngGenerationSize } from '../../../sidecar/src/lifecycle/idleMemory';

const mode = process.argv[2];
const collections: { before: number; after: number }[] = [];
const stop = releaseMemoryWhenIdle({ checkMs: 200, onCollect: (before, after) => collections.push({ before, after }) });

// Objects that outlive several scavenges make V8 grow the young generation.
let keep: unknown[] = [];
for (let round = 0; round < 40; round++) {
  keep.push(Array.from({ length: 50_000 }, (_, i) => ({ i, s: `x${i}` })));
  if (keep.length > 8) keep = keep.slice(4);
}
const grown = youngGenerationSize();
keep = [];

const until = performance.now() + 1500;
const finish = () => {
  stop();
  process.stdout.write(JSON.stringify({ grown, collections, end: youngGenerationSize() }));
};
if (mode === 'busy') {
  const spin = () => {
    const slice = performance.now() + 50;
    while (performance.now() < slice) { /* a busy core */ }
    if (performance.now() < until) setImmediate(spin);
    else finish();
  };
  spin();
} else {
  setTimeout(finish, until - performance.now());
}
