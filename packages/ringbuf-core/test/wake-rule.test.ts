/**
 * The kernel's wake decision after a commit (bpf_ringbuf_commit): FORCE_WAKEUP always wakes;
 * NO_WAKEUP never does; otherwise wake iff consumer_pos & mask is exactly this record's offset.
 * Here a wakeup is only sent to a consumer that announced it sleeps (never a notify for nobody).
 * The consumer's announcement is played with announceSleep(); everything is observed through the
 * wake word and the notification counter, so nothing depends on timing.
 */
import test from 'ava';
import {
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  RingBuffer,
  announceSleep,
  cancelSleep,
  consumerSleeping,
  layout,
  wakeNotifies,
} from '../src/index.js';

const SIZE = 4096;

function setup() {
  const ring = RingBuffer.create({ size: SIZE, producerId: 9 });
  const word = new Int32Array(ring.buffer);
  return { ring, word };
}

type Case = { name: string; flags: number; atConsumer: boolean; sleeping: boolean; wakes: boolean };
const cases: Case[] = [
  {
    name: 'flags 0 at consumer_pos wakes a sleeping consumer',
    flags: 0,
    atConsumer: true,
    sleeping: true,
    wakes: true,
  },
  {
    name: 'flags 0 behind consumer_pos does not wake (the consumer is behind)',
    flags: 0,
    atConsumer: false,
    sleeping: true,
    wakes: false,
  },
  {
    name: 'NO_WAKEUP at consumer_pos does not wake',
    flags: BPF_RB_NO_WAKEUP,
    atConsumer: true,
    sleeping: true,
    wakes: false,
  },
  {
    name: 'FORCE_WAKEUP not at consumer_pos wakes',
    flags: BPF_RB_FORCE_WAKEUP,
    atConsumer: false,
    sleeping: true,
    wakes: true,
  },
  {
    name: 'FORCE_WAKEUP | NO_WAKEUP wakes (FORCE wins)',
    flags: BPF_RB_FORCE_WAKEUP | BPF_RB_NO_WAKEUP,
    atConsumer: false,
    sleeping: true,
    wakes: true,
  },
  {
    name: 'FORCE_WAKEUP to an awake consumer sends nothing',
    flags: BPF_RB_FORCE_WAKEUP,
    atConsumer: true,
    sleeping: false,
    wakes: false,
  },
  {
    name: 'flags 0 at consumer_pos to an awake consumer sends nothing',
    flags: 0,
    atConsumer: true,
    sleeping: false,
    wakes: false,
  },
];

for (const c of cases) {
  for (const commit of ['submit', 'discard', 'output'] as const) {
    test(`${commit}: ${c.name}`, (t) => {
      const { ring, word } = setup();
      if (!c.atConsumer) {
        // A committed record the consumer has not read yet: the next record is not at consumer_pos.
        ring.output(new Uint8Array(8), BPF_RB_NO_WAKEUP);
      }
      if (c.sleeping) announceSleep(word);
      const before = wakeNotifies(word);
      if (commit === 'output') {
        ring.output(new Uint8Array(24), c.flags);
      } else {
        const off = ring.reserve(24);
        t.is(off - 8 === 0, c.atConsumer);
        ring[commit](off, c.flags);
      }
      t.is(wakeNotifies(word) - before, c.wakes ? 1 : 0);
      t.is(consumerSleeping(word), c.sleeping && !c.wakes);
      t.is(
        Atomics.load(word, layout.WAKE_WORD_INDEX),
        c.sleeping && !c.wakes ? layout.WAKE_SLEEPING : layout.WAKE_AWAKE,
      );
      cancelSleep(word);
    });
  }
}

test(
  'the wake rule compares consumer_pos & mask with the record offset, so it holds ' + 'after laps and across 2^32',
  (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: 9, startPos: 2 ** 32 - 40 });
    const word = new Int32Array(ring.buffer);
    const i32 = word;
    // Consume everything as we go (playing the consumer), sleeping before every commit.
    let woke = 0;
    for (let i = 0; i < 300; i++) {
      announceSleep(word);
      const before = wakeNotifies(word);
      const off = ring.reserve(32);
      ring.submit(off, 0);
      woke += wakeNotifies(word) - before;
      // The consumer reads it: consumer_pos = producer_pos.
      Atomics.store(i32, layout.CONS_POS_INDEX, Atomics.load(i32, layout.PROD_POS_INDEX));
    }
    cancelSleep(word);
    t.is(woke, 300, 'every commit found the caught-up consumer exactly at its record');
  },
);

test('only the commit that flips SLEEPING to AWAKE notifies: concurrent-looking wakers coalesce', (t) => {
  const { ring, word } = setup();
  announceSleep(word);
  const before = wakeNotifies(word);
  ring.output(new Uint8Array(8), BPF_RB_FORCE_WAKEUP);
  ring.output(new Uint8Array(8), BPF_RB_FORCE_WAKEUP);
  ring.output(new Uint8Array(8), BPF_RB_FORCE_WAKEUP);
  t.is(wakeNotifies(word) - before, 1);
});
