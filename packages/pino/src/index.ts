export { transport, TransportStream } from './transport.js';
export type { TransportOptions } from './transport.js';
export { destination, RingDestination } from './destination.js';
export type { OnFull, PinoShare, Stats, ThreadStats, SharedStats } from './destination.js';
export type { PinoTransportOptions, TargetOptions, TargetsEntry } from './targets.js';
