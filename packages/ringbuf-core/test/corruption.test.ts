/**
 * The producer side of the fault model: shared words that a thread overwrote. Every case must end in
 * a RingBufCorruptionError (code ERR_RINGBUF_CORRUPT) within a bounded walk, with the lock free
 * afterwards, never a hang holding the lock, an out-of-bounds read or a reservation over a record.
 */
import test from 'ava';
import { BPF_RB_AVAIL_DATA, BPF_RB_PROD_POS, RingBufCorruptionError, RingBuffer, layout } from '../src/index.js';

const SIZE = 4096;

interface Case {
  name: string;
  overwrite?: boolean;
  /** Valid history, then the corruption. */
  corrupt: (ring: RingBuffer, i32: Int32Array) => void;
  /** The call that must detect it. */
  call: (ring: RingBuffer) => unknown;
  message: RegExp;
}

const history = (ring: RingBuffer): void => {
  for (let i = 0; i < 5; i++) ring.output(new Uint8Array(40).fill(i));
};

/** Writes overwrite_pos into the current slot, as a stray store would. */
const setOverwritePos = (i32: Int32Array, pos: number): void => {
  const gen = i32[layout.OVERWRITE_GEN_INDEX]!;
  i32[layout.OVERWRITE_SLOTS_INDEX + (gen & 1) * layout.OVERWRITE_SLOT_WORDS] = pos;
};

const cases: Case[] = [
  {
    name: 'pending_pos ahead of producer_pos',
    corrupt: (ring, i32) => {
      history(ring);
      i32[layout.PENDING_POS_INDEX] = ring.producerPos() + 64;
    },
    call: (ring) => ring.reserve(8),
    message: /pending_pos/,
  },
  {
    name: 'pending_pos more than a ring behind producer_pos',
    corrupt: (ring, i32) => {
      history(ring);
      i32[layout.PENDING_POS_INDEX] = ring.producerPos() - 2 * SIZE;
    },
    call: (ring) => ring.reserve(8),
    message: /pending_pos/,
  },
  {
    name: 'a committed header before producer_pos with a length above maxPayload',
    corrupt: (ring, i32) => {
      history(ring);
      // pending_pos still points at the last record; make its header a committed 100000-byte one.
      i32[layout.headerIndex(i32[layout.PENDING_POS_INDEX]! & (SIZE - 1))] = 100000;
    },
    call: (ring) => ring.reserve(8),
    message: /length 100000 exceeds/,
  },
  {
    name: 'a committed header before producer_pos whose record runs past producer_pos',
    corrupt: (ring, i32) => {
      history(ring);
      i32[layout.headerIndex(i32[layout.PENDING_POS_INDEX]! & (SIZE - 1))] = 1000;
    },
    call: (ring) => ring.reserve(8),
    message: /runs past producer_pos/,
  },
  {
    name: 'a zeroed header and owner word before producer_pos (memory wiped)',
    corrupt: (ring, i32) => {
      history(ring);
      const at = layout.headerIndex(i32[layout.PENDING_POS_INDEX]! & (SIZE - 1));
      i32[at] = 0;
      i32[at + layout.HDR_OWNER_WORD] = 0;
    },
    call: (ring) => ring.reserve(8),
    message: /owner word 0/,
  },
  {
    name: 'overwrite mode: overwrite_pos ahead of producer_pos',
    overwrite: true,
    corrupt: (ring, i32) => {
      for (let i = 0; i < 100; i++) ring.output(new Uint8Array(40));
      const gen = i32[layout.OVERWRITE_GEN_INDEX]!;
      i32[layout.OVERWRITE_SLOTS_INDEX + (gen & 1) * layout.OVERWRITE_SLOT_WORDS] = ring.producerPos() + 4096;
    },
    call: (ring) => {
      for (let i = 0; i < 200; i++) ring.output(new Uint8Array(40));
    },
    message: /overwrite_pos/,
  },
  {
    name: 'overwrite mode: a header to overwrite with a length above maxPayload',
    overwrite: true,
    corrupt: (ring, i32) => {
      for (let i = 0; i < 100; i++) ring.output(new Uint8Array(40));
      const over = ring.overwritePos();
      i32[layout.headerIndex(over & (SIZE - 1))] = 0x3fffffff;
    },
    call: (ring) => {
      for (let i = 0; i < 200; i++) ring.output(new Uint8Array(40));
    },
    message: /overwrite_pos or header/,
  },
  // overwrite_pos ahead of producer_pos by less than the next record's footprint: the new record's
  // end passes it, so no overwrite is needed and the fit check alone let the reservation through.
  ...(
    [
      ['reserve', (ring: RingBuffer) => ring.reserve(40)],
      ['tryReserve', (ring: RingBuffer) => ring.tryReserve(40)],
      ['reserveBatch', (ring: RingBuffer) => ring.reserveBatch(16, 2)],
      ['output of a short payload (copied under the lock)', (ring: RingBuffer) => ring.output(new Uint8Array(40))],
      [
        'output of a long payload (reserved, copied, committed)',
        (ring: RingBuffer) => ring.output(new Uint8Array(200)),
      ],
    ] as const
  ).flatMap(([path, call]): Case[] => [
    {
      name: `overwrite mode: overwrite_pos 8 bytes ahead of producer_pos, no overwrite needed (${path})`,
      overwrite: true,
      corrupt: (ring, i32) => {
        history(ring);
        setOverwritePos(i32, ring.producerPos() + 8);
      },
      call,
      message: /corrupt overwrite_pos/,
    },
    {
      name: `overwrite mode: overwrite_pos off a record boundary, no overwrite needed (${path})`,
      overwrite: true,
      corrupt: (ring, i32) => {
        history(ring);
        setOverwritePos(i32, 4);
      },
      call,
      message: /corrupt overwrite_pos/,
    },
  ]),
  {
    name: 'recovery with consumer_pos off a record boundary',
    corrupt: (ring, i32) => {
      history(ring);
      i32[layout.CONS_POS_INDEX] = 4;
    },
    call: (ring) => ring.recoverProducer(99),
    message: /consumer_pos 4 is not a record boundary/,
  },
  {
    name: 'recovery with producer_pos off a record boundary',
    corrupt: (ring, i32) => {
      history(ring);
      i32[layout.PROD_POS_INDEX] = ring.producerPos() + 4;
    },
    call: (ring) => ring.recoverProducer(99),
    message: /producer_pos \d+ is not a record boundary/,
  },
  {
    name: 'overwrite mode: recovery with overwrite_pos off a record boundary',
    overwrite: true,
    corrupt: (ring, i32) => {
      history(ring);
      setOverwritePos(i32, 4);
    },
    call: (ring) => ring.recoverProducer(99),
    message: /4 is not a record boundary/,
  },
  {
    name: 'recovery over a header with a length above maxPayload',
    corrupt: (ring, i32) => {
      history(ring);
      i32[layout.headerIndex(48)] = 0x80000000 | 50000;
    },
    call: (ring) => ring.recoverProducer(99),
    message: /length 50000 exceeds/,
  },
  {
    name: 'recovery with producer_pos more than a ring ahead of consumer_pos',
    corrupt: (ring, i32) => {
      history(ring);
      i32[layout.PROD_POS_INDEX] = 2 ** 31 - 8;
    },
    call: (ring) => ring.recoverProducer(99),
    message: /at least the ring/,
  },
];

for (const c of cases) {
  test(`${c.name}: detected as ERR_RINGBUF_CORRUPT, bounded, lock freed`, (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: 1, overwrite: c.overwrite ?? false });
    const i32 = new Int32Array(ring.buffer);
    c.corrupt(ring, i32);
    const started = performance.now();
    const err = t.throws(() => c.call(ring), { instanceOf: RingBufCorruptionError });
    t.is(err?.code, 'ERR_RINGBUF_CORRUPT');
    t.regex(err?.message ?? '', c.message);
    t.true(performance.now() - started < 1000, 'detected within a bounded walk');
    t.is(ring.lockHolder(), 0, 'the lock is free after the error');
    // query never throws and never walks: it reports the raw positions.
    t.is(typeof ring.query(BPF_RB_AVAIL_DATA), 'number');
    t.is(typeof ring.query(BPF_RB_PROD_POS), 'number');
  });
}

test(
  'consumer_pos ahead of producer_pos (the ringbuf_write selftest) is not ' +
    'corruption for producers: reservations fail as in the kernel',
  (t) => {
    const created = RingBuffer.create({ size: SIZE, producerId: 1 });
    created.publishConsumerPos(0x800);
    // As the selftest writes consumer_pos before its program runs: a handle attached afterwards.
    const ring = RingBuffer.attach(created.buffer, { producerId: 2 });
    // new_prod_pos - cons_pos wraps above the mask: the kernel's `__bpf_ringbuf_reserve` check refuses.
    t.is(ring.reserve(8), -1);
    // A reservation that ends just past consumer_pos passes the same check, as in the kernel.
    t.true(ring.reserve(0x800) >= 0);
  },
);
