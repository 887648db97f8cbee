/**
 * `@ringbuf/instrument`: the layer between the protocol (`@ringbuf/core`) and its two sides. The
 * instrumented record format, the causal rule and a clock shared by every thread. No Node-only
 * imports here; the pino logger is the separate entry `@ringbuf/instrument/log`.
 */
export * from './record.js';
export {
  InstrumentError,
  InstrumentRangeError,
  type InstrumentErrorCode,
  describe as describeValue,
} from './errors.js';
export { clockMicros } from './clock.js';
