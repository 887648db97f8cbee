// Overwrite mode (the kernel's BPF_F_RB_OVERWRITE): producers never wait for the consumer; when a
// record does not fit, the oldest committed records are overwritten. Use it for "the latest N
// events" (a flight recorder). The consumer reads what is still there, newest records intact, and
// counts exactly how many were overwritten before it could read them.
// Run: node examples/overwrite.mjs
import { RingBuffer, BPF_RB_AVAIL_DATA, BPF_RB_OVERWRITE_POS } from '@ringbuf/core';
import { Consumer } from '@ringbuf/consumer';

const ring = RingBuffer.create({ size: 4096, overwrite: true });
const WRITTEN = 200;
for (let seq = 0; seq < WRITTEN; seq++) {
  const off = ring.reserve(56); // 8-byte header + 56 = 64 bytes a record: 63 fit in 4096 bytes
  ring.view.setUint32(off, seq, true); // in overwrite mode reserve fails only behind an uncommitted record
  ring.submit(off);
}
console.log(
  `wrote ${WRITTEN} records; available ${ring.query(BPF_RB_AVAIL_DATA)} bytes, overwrite_pos ` +
    `${ring.query(BPF_RB_OVERWRITE_POS)}`,
);

const seqs = [];
// In overwrite mode the callback gets a private copy (offset 0): a record overwritten while it was
// being read is skipped, never delivered torn.
const consumer = new Consumer(RingBuffer.attach(ring.buffer), (data, offset) => {
  seqs.push(new DataView(data.buffer, data.byteOffset + offset, 4).getUint32(0, true));
});
const delivered = consumer.consume();
const { lost } = consumer.ringCounters(0);
consumer.close();
console.log(
  `delivered ${delivered} records (seq ${seqs[0]} to ${seqs.at(-1)}), lost ${lost} to overwriting: ${delivered} + ` +
    `${lost} = ${delivered + lost}`,
);
process.exitCode = delivered + lost === WRITTEN && seqs.at(-1) === WRITTEN - 1 ? 0 : 1;
