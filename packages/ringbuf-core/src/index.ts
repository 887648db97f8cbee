export { RingBuffer, MAX_PRODUCER_ID, OUTPUT_UNDER_LOCK_MAX } from './ring.js';
export { isValidRingSize } from './checks.js';
export type { RingBufferCreateOptions, RingBufferAttachOptions, RingShare } from './ring.js';
export {
  BPF_RB_NO_WAKEUP,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_WAKEUP_FLAGS,
  BPF_RB_AVAIL_DATA,
  BPF_RB_RING_SIZE,
  BPF_RB_CONS_POS,
  BPF_RB_PROD_POS,
  BPF_RB_OVERWRITE_POS,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
  RESERVE_FAILED,
  LINE_BYTES,
  maxPayloadOf,
  recordFootprint,
} from './layout.js';
export { SharedLayout, WORD_BYTES, DOUBLE_BYTES } from './shared-layout.js';
export * as layout from './layout.js';
export {
  CodedError,
  CodedRangeError,
  describeThrown,
  describeValue,
  RingBufError,
  RingBufRangeError,
  RingBufCorruptionError,
} from './errors.js';
export type { CodedErrorOptions, RingBufErrorCode } from './errors.js';
export {
  CAN_BLOCK,
  WakeGroup,
  announceSleep,
  cancelSleep,
  sleep,
  sleepAsync,
  wakeConsumer,
  consumerSleeping,
  wakeNotifies,
  rescueSleeper,
} from './wake.js';
export type { WakeWord } from './wake.js';
export { DEFAULT_LOCK_TIMEOUT_MS, LOCK_SPINS } from './lock.js';
export type { LockStats } from './lock.js';
export { posDiff, posAdd, posMax, posToUnsigned } from './positions.js';
export { monotonicMs, waitTimeoutMs } from './clock.js';
export { HEARTBEAT_STAMP_MS, HEARTBEAT_IDLE_MS, HEARTBEAT_STALL_MS } from './heartbeat.js';
export {
  UserRingBuffer,
  BPF_MAX_USER_RINGBUF_SAMPLES,
  MAX_USER_RING_ID,
  USER_RINGBUF_CONTINUE,
  USER_RINGBUF_STOP,
} from './user-ring.js';
export type {
  UserRingBufferCreateOptions,
  UserRingBufferAttachOptions,
  UserRingShare,
  UserRingDrainCallback,
} from './user-ring.js';
