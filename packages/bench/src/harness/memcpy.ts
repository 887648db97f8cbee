/**
 * Single-thread memcpy bandwidth: `Uint8Array.prototype.set` of a private block into a 64 MiB
 * SharedArrayBuffer, the destination walking with wrap-around; best of three timed loops.
 */
import type { MemcpyResult } from '../scenarios/types.js';

const DEST_BYTES = 64 * 1024 * 1024;

/** Thread: main (blocks for about 3 × `loopMs` per size). */
export function measureMemcpy(sizes: readonly number[], loopMs: number): MemcpyResult[] {
  const dst = new Uint8Array(new SharedArrayBuffer(DEST_BYTES));
  const out: MemcpyResult[] = [];
  for (const size of sizes) {
    const src = new Uint8Array(size);
    for (let i = 0; i < size; i++) src[i] = i & 0xff;
    const check = Math.max(1, Math.floor(65536 / size));
    let best = 0;
    for (let run = 0; run < 3; run++) {
      let off = 0;
      let copies = 0;
      const t0 = performance.now();
      let t1 = t0;
      while (t1 - t0 < loopMs) {
        for (let i = 0; i < check; i++) {
          dst.set(src, off);
          off += size;
          if (off + size > DEST_BYTES) off = 0;
        }
        copies += check;
        t1 = performance.now();
      }
      best = Math.max(best, (copies * size * 1000) / (t1 - t0));
    }
    out.push({ size, bytesPerSec: best });
  }
  return out;
}
