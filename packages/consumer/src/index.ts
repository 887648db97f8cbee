export { Consumer } from './consumer.js';
export type { SampleCallback, RingCounters, ConsumerCounters } from './consumer.js';
export * from './record-format.js';
