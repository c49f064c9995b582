/** Shared backpressure counters between the coordinator and the scanner (Int32 slots of a SharedArrayBuffer). */
export const FLOW_QUEUED_FILES = 0;
export const FLOW_SLOTS = 1;
/** The scanner pauses while more file reads than this wait in the readers' queues. */
export const FLOW_LIMIT_FILES = 20_000;
