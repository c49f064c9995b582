/** Shared backpressure counters between the coordinator and the scanner (Int32 slots of a SharedArrayBuffer). */
export const FLOW_QUEUED_FILES = 0;
/**
 * entries of folders the scanner reported that the coordinator has not processed yet, or whose files are
 * still being read (such a folder holds its listing and its parent snapshot's: ScanFeed.folder)
 */
export const FLOW_QUEUED_ENTRIES = 1;
/** how many entries may wait (FLOW_QUEUED_ENTRIES) before the scanner pauses; 0 means FLOW_LIMIT_ENTRIES */
export const FLOW_ENTRIES_LIMIT = 2;
export const FLOW_SLOTS = 3;
/**
 * The scanner pauses while more file reads than this wait in the readers' queues. Each waiting file is a
 * few hundred bytes on the coordinator's heap and the readers' (tree node, queue entry, job): 20 000 held
 * ~10 MB more at the peak of a backup of 80 000 small files than 4 000, at the same speed (docs/DECISIONS.md).
 */
export const FLOW_LIMIT_FILES = 4_000;
/**
 * ...and while more folder entries than this wait for the coordinator or for their folder's files to be
 * read: a walk is faster than the coordinator when it must first load the dedup table or parent trees, and
 * every waiting entry is a few hundred bytes on the main thread's heap (a million-file re-scan held ~1 GB
 * of folder messages; one with a change in each folder of 1 000, ~300 MB of folders waiting for a read).
 */
export const FLOW_LIMIT_ENTRIES = 8_000;
/**
 * ...except while the repository is still being unlocked (stages/scan-ahead.ts): the coordinator is idle
 * then, and a walk that stops at 8 000 entries leaves most of a re-scan for after the key derivation. The
 * waiting entries cost ~400 bytes each on the coordinator's heap (20 000: ~5 MB more at a no-change peak).
 */
export const FLOW_LIMIT_ENTRIES_AHEAD = 32_000;
