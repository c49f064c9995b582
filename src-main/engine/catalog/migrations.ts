/**
 * Catalog schema, one migration per entry; `PRAGMA user_version` records how many ran. Never edit a shipped
 * migration: append a new one. The catalog is a cache of the repository (repair --rebuild-catalog rebuilds
 * it from the repository and the password), plus local state (runs, audit, sources).
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE repositories (
    rid INTEGER PRIMARY KEY,
    repo_id TEXT NOT NULL UNIQUE,
    location TEXT NOT NULL,
    config TEXT NOT NULL,
    added_at INTEGER NOT NULL
  );
  CREATE TABLE packs (
    rid INTEGER NOT NULL,
    id TEXT NOT NULL,
    size INTEGER NOT NULL,
    retain_until INTEGER,
    index_id TEXT,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (rid, id)
  ) WITHOUT ROWID;
  CREATE TABLE blobs (
    rid INTEGER NOT NULL,
    id BLOB NOT NULL,
    pack TEXT NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    raw_length INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    PRIMARY KEY (rid, id)
  ) WITHOUT ROWID;
  CREATE INDEX blobs_by_pack ON blobs (rid, pack);
  CREATE TABLE indexes (
    rid INTEGER NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (rid, id)
  ) WITHOUT ROWID;
  CREATE TABLE snapshots (
    rid INTEGER NOT NULL,
    id TEXT NOT NULL,
    time TEXT NOT NULL,
    source TEXT NOT NULL,
    host TEXT NOT NULL,
    tree TEXT NOT NULL,
    retain_until INTEGER,
    manifest TEXT NOT NULL,
    PRIMARY KEY (rid, id)
  ) WITHOUT ROWID;
  CREATE INDEX snapshots_by_source ON snapshots (rid, source, time);
  -- plaintext tree blobs of recent snapshots: the file-state cache. A backup compares each directory with
  -- its tree in the parent snapshot (size, mtime, ctime, inode) with one lookup per directory, not per file.
  CREATE TABLE trees (
    rid INTEGER NOT NULL,
    id BLOB NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (rid, id)
  ) WITHOUT ROWID;
  CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    paths TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    rid INTEGER,
    kind TEXT NOT NULL,
    source TEXT,
    state TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    snapshot_id TEXT,
    stats TEXT,
    error TEXT
  );
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    details TEXT
  );
  `,
  `
  -- What the catalog knows of each repository object's lock (S3 Object Lock retain-until, legal hold), so lock
  -- upkeep costs requests only for objects that fall short. NULL retain_until: unknown (ask the server).
  CREATE TABLE locks (
    rid INTEGER NOT NULL,
    name TEXT NOT NULL,
    retain_until INTEGER,
    legal_hold INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (rid, name)
  ) WITHOUT ROWID;
  ALTER TABLE snapshots ADD COLUMN protected_until INTEGER;
  ALTER TABLE snapshots ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- The backup service (engine/service): where to back up, what, and the alerts it raised. Its runs go to
  -- the runs table (source = service_sources.id).
  CREATE TABLE service_targets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    location TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('fs', 's3')),
    endpoint TEXT,
    region TEXT,
    bytes_per_second INTEGER,
    is_default INTEGER NOT NULL DEFAULT 0,
    repo_id TEXT,
    lock TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE service_sources (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    paths TEXT NOT NULL,
    include TEXT NOT NULL DEFAULT '[]',
    exclude TEXT NOT NULL DEFAULT '[]',
    target_id TEXT NOT NULL,
    rpo_minutes REAL NOT NULL DEFAULT 60,
    quiet_seconds REAL NOT NULL DEFAULT 30,
    rescan_minutes REAL NOT NULL DEFAULT 60,
    retention_template TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    last_success_at INTEGER,
    last_snapshot_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    source_id TEXT,
    target_id TEXT,
    text TEXT NOT NULL,
    action TEXT,
    raised_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    cleared_at INTEGER,
    acknowledged_at INTEGER
  );
  CREATE INDEX alerts_open ON alerts (kind, cleared_at);
  CREATE INDEX runs_by_source ON runs (source, id);
  `,
  `
  -- Retention (engine/retention) and the audit mirror. Caches of sealed repository objects: the catalog
  -- can be lost, those objects bring it back.
  -- Every policy change of a source is one row (one policies/<id> object); the newest per source is in force.
  CREATE TABLE retention_policies (
    rid INTEGER NOT NULL,
    object TEXT NOT NULL,
    source TEXT NOT NULL,
    time INTEGER NOT NULL,
    policy TEXT NOT NULL,
    PRIMARY KEY (rid, object)
  ) WITHOUT ROWID;
  CREATE INDEX retention_policies_by_source ON retention_policies (rid, source, time);
  -- Snapshots promoted to a longer lock tier (tiers/ objects): protected until "until" (ms).
  CREATE TABLE snapshot_tiers (
    rid INTEGER NOT NULL,
    object TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    tier TEXT NOT NULL,
    until INTEGER NOT NULL,
    PRIMARY KEY (rid, object)
  ) WITHOUT ROWID;
  CREATE INDEX snapshot_tiers_by_snapshot ON snapshot_tiers (rid, snapshot);
  -- Packs a prune found unreferenced (first mark wins), from any computer's prune/marks-* objects.
  CREATE TABLE prune_marks (
    rid INTEGER NOT NULL,
    pack TEXT NOT NULL,
    marked_at INTEGER NOT NULL,
    PRIMARY KEY (rid, pack)
  ) WITHOUT ROWID;
  -- prune/ objects already read
  CREATE TABLE prune_records (
    rid INTEGER NOT NULL,
    object TEXT NOT NULL,
    PRIMARY KEY (rid, object)
  ) WITHOUT ROWID;
  -- Packs a prune deleted: never learned again from an index object that still lists them.
  CREATE TABLE gone_packs (
    rid INTEGER NOT NULL,
    pack TEXT NOT NULL,
    deleted_at INTEGER NOT NULL,
    PRIMARY KEY (rid, pack)
  ) WITHOUT ROWID;
  -- Switches other parts set and read, e.g. 'prune.paused' (value: the reason).
  CREATE TABLE flags (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    set_at INTEGER NOT NULL
  );
  -- The audit entry's origin and the repository object it was mirrored to (NULL: not yet written).
  ALTER TABLE audit ADD COLUMN rid INTEGER;
  ALTER TABLE audit ADD COLUMN host TEXT;
  ALTER TABLE audit ADD COLUMN user TEXT;
  ALTER TABLE audit ADD COLUMN object TEXT;
  CREATE INDEX audit_pending ON audit (rid, object);
  `,
  `
  -- The version of each repository object that Bulwark wrote and reads (repo/pinned-store.ts): on a
  -- versioned bucket whoever holds the keys can put newer versions over any name. '-': retired.
  CREATE TABLE object_versions (
    rid INTEGER NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (rid, name)
  ) WITHOUT ROWID;
  -- Versions and delete markers over Bulwark's objects that Bulwark did not write, as first seen.
  CREATE TABLE tampering (
    rid INTEGER NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    modified INTEGER,
    ours TEXT,
    first_seen INTEGER NOT NULL,
    acknowledged_at INTEGER,
    PRIMARY KEY (rid, name, version)
  ) WITHOUT ROWID;
  `,
  `
  -- Legal holds per snapshot (holds/ objects, a cache: a new catalog learns them back from the repository).
  -- One row per record; the latest per snapshot (by time) is in force: held = 1 placed, 0 lifted.
  CREATE TABLE snapshot_holds (
    rid INTEGER NOT NULL,
    object TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    held INTEGER NOT NULL,
    time INTEGER NOT NULL,
    PRIMARY KEY (rid, object)
  ) WITHOUT ROWID;
  CREATE INDEX snapshot_holds_by_snapshot ON snapshot_holds (rid, snapshot, time);
  `,
  `
  -- Blobs found damaged at one location (verify: a copy that does not authenticate, or whose pack is gone). A
  -- blob whose current location (blobs.pack) is listed here is never reused: backups do not deduplicate
  -- against it, an unchanged file or folder that needs it is read again, and the new copy takes its place.
  -- Rebuildable (verify finds them again); kept across a rebuild: a pack never changes once written.
  CREATE TABLE damaged_blobs (
    rid INTEGER NOT NULL,
    id BLOB NOT NULL,
    pack TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    found_at INTEGER NOT NULL,
    PRIMARY KEY (rid, id, pack)
  ) WITHOUT ROWID;
  CREATE INDEX damaged_blobs_by_pack ON damaged_blobs (rid, pack);
  -- The audit log's hash chain as this catalog writes it (one writer per catalog and repository): the last
  -- sequence number given out and the keyed hash of that entry.
  CREATE TABLE audit_chain (
    rid INTEGER PRIMARY KEY,
    writer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT
  );
  -- The entry exactly as chained (JSON), fixed before its first write so a retried write is the same object.
  ALTER TABLE audit ADD COLUMN entry TEXT;
  `,
  `
  -- The file-history index (engine/history): one row per version (distinct content) of a file path per
  -- source, so find and versions answer without walking snapshots. A cache like the rest: written by each
  -- backup from the tree diff with its parent, adjusted by forget, rebuilt by repair --rebuild-catalog.
  -- The sources of a repository the index knows.
  CREATE TABLE history_sources (
    sid INTEGER PRIMARY KEY,
    rid INTEGER NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (rid, source)
  );
  -- The snapshots of each source taken into the index, in chain (time) order: seq only grows, so a version
  -- names its first and end snapshot by seq (2 bytes, not a 32-character id).
  CREATE TABLE history_snapshots (
    sid INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    time TEXT NOT NULL,
    tree TEXT NOT NULL,
    -- the manifest's backed-up paths (JSON), for where a file was on disk
    paths TEXT NOT NULL,
    PRIMARY KEY (sid, seq)
  ) WITHOUT ROWID;
  -- Paths relative to the snapshot root, once per repository, as bytes (a name that is not UTF-8 keeps its
  -- bytes; SQLite text would turn its escapes into U+FFFD).
  CREATE TABLE history_paths (
    pid INTEGER PRIMARY KEY,
    rid INTEGER NOT NULL,
    path BLOB NOT NULL,
    UNIQUE (rid, path)
  );
  -- Name search over the distinct paths (rowid = pid): lower-cased, NFC, an escaped byte as the CLI shows it
  -- (backslash, x, two hex digits: history/search-text.ts).
  -- Trigrams accelerate GLOB for patterns with 3+ characters in a row; shorter ones scan this table.
  CREATE VIRTUAL TABLE history_search USING fts5(
    text, tokenize = 'trigram case_sensitive 1', detail = none, columnsize = 0
  );
  -- One row per version: in every snapshot of the source with first <= seq < ended (ended NULL: current).
  -- content: hash of the file's blob list; mtime in ms; a path's rows never overlap.
  CREATE TABLE history_versions (
    pid INTEGER NOT NULL,
    sid INTEGER NOT NULL,
    first INTEGER NOT NULL,
    ended INTEGER,
    content BLOB NOT NULL,
    size INTEGER NOT NULL,
    mtime INTEGER NOT NULL,
    PRIMARY KEY (pid, sid, first)
  ) WITHOUT ROWID;
  CREATE INDEX history_versions_by_first ON history_versions (sid, first);
  CREATE INDEX history_versions_by_end ON history_versions (sid, ended);
  -- Repositories whose index covers every snapshot the catalog knew when it was built (a catalog from
  -- before the index builds it on first use, not in the middle of a backup).
  CREATE TABLE history_built (
    rid INTEGER PRIMARY KEY,
    built_at INTEGER NOT NULL
  );
  `,
  `
  -- Alert delivery (engine/service/notify): the settings (one row, JSON without any secret: those are kept
  -- in the config folder) and every message to email, a webhook or a ping address, with its retries, so a
  -- restart neither repeats a message nor forgets one that is still due.
  CREATE TABLE notify_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    settings TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE notify_deliveries (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    event TEXT NOT NULL,
    alert_id INTEGER,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    last_error TEXT,
    last_error_at INTEGER
  );
  CREATE INDEX notify_deliveries_due ON notify_deliveries (state, next_attempt_at);
  CREATE INDEX notify_deliveries_by_alert ON notify_deliveries (alert_id, channel);
  `,
  `
  -- Restore drills (engine/drill): what each test restore tested and found, local history like runs (a
  -- drill's own restore is also in the repository's audit log). source: the snapshot's source key.
  CREATE TABLE drills (
    id INTEGER PRIMARY KEY,
    repo_id TEXT NOT NULL,
    location TEXT NOT NULL,
    source TEXT NOT NULL,
    source_id TEXT,
    source_name TEXT NOT NULL,
    snapshot_id TEXT,
    snapshot_time TEXT,
    schedule TEXT NOT NULL,
    trigger TEXT NOT NULL,
    mode TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    files_tested INTEGER NOT NULL,
    bytes_tested INTEGER NOT NULL,
    files_total INTEGER NOT NULL,
    bytes_total INTEGER NOT NULL,
    changed_files INTEGER NOT NULL,
    failures TEXT NOT NULL,
    restore_ms INTEGER NOT NULL,
    throughput REAL NOT NULL,
    estimated_full_seconds REAL,
    rto_minutes REAL,
    rto_verdict TEXT NOT NULL,
    error TEXT
  );
  CREATE INDEX drills_by_source ON drills (source, started_at);
  -- Per service source: how often a restore drill runs and the longest a full restore may take (RTO).
  ALTER TABLE service_sources ADD COLUMN drill_every_days REAL NOT NULL DEFAULT 7;
  ALTER TABLE service_sources ADD COLUMN rto_minutes REAL NOT NULL DEFAULT 240;
  `,
  `
  -- The last self-test of each service target (engine/service/target-tests.ts): its verdict in words, so
  -- the Targets page shows it without testing again. report: the checks as shown (JSON, no secrets).
  CREATE TABLE service_target_tests (
    target_id TEXT PRIMARY KEY,
    verdict TEXT NOT NULL CHECK (verdict IN ('immutable', 'tamper-evident', 'not-immutable')),
    headline TEXT NOT NULL,
    reason TEXT NOT NULL,
    mode TEXT,
    tested_at INTEGER NOT NULL,
    report TEXT NOT NULL
  );
  `,
  `
  -- Ransomware signals (engine/signals): each incident of a service source (what was seen, since when), the
  -- snapshot marked "last clean" and held (its locks extended, a legal hold where the keys allow), and how
  -- someone resolved it. Local state like runs: the hold itself is in the repository (holds/ records).
  CREATE TABLE ransomware_incidents (
    id INTEGER PRIMARY KEY,
    source_id TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    since INTEGER NOT NULL,
    signals TEXT NOT NULL,
    last_clean_snapshot TEXT,
    last_clean_time TEXT,
    held_until INTEGER,
    legal_hold INTEGER NOT NULL DEFAULT 0,
    hold_problem TEXT,
    resolved_at INTEGER,
    resolution TEXT
  );
  CREATE INDEX ransomware_incidents_by_source ON ransomware_incidents (source_id, resolved_at);
  -- Each source's normal activity (the highest counts of ordinary work, JSON), which a burst must exceed.
  CREATE TABLE signal_baselines (
    source_id TEXT PRIMARY KEY,
    baseline TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  -- Decoy files placed in a source's folders (opt-in): any change to one is a signal.
  CREATE TABLE signal_canaries (
    source_id TEXT NOT NULL,
    path TEXT NOT NULL,
    placed_at INTEGER NOT NULL,
    PRIMARY KEY (source_id, path)
  ) WITHOUT ROWID;
  `,
  `
  -- 3-2-1 (engine/service/copies.ts): the extra targets each service source's snapshots are copied to after
  -- its backups (JSON list of target ids), and per (source, copy target) the first and last copy attempt and the
  -- last outcome (a copy that never worked is late once its first attempt is older than the source's RPO).
  -- What the copy target holds is read from its repository (the snapshots table), not from here.
  ALTER TABLE service_sources ADD COLUMN copy_target_ids TEXT NOT NULL DEFAULT '[]';
  CREATE TABLE service_copies (
    source_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    first_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL,
    last_success_at INTEGER,
    last_error TEXT,
    PRIMARY KEY (source_id, target_id)
  ) WITHOUT ROWID;
  `,
  `
  -- Folder listings in an ordinary (rowid) table: a WITHOUT ROWID table keeps at most ~1 KB of a row in its
  -- page and chains the rest through overflow pages, and a listing is ~3 KB. Reading the 6 668 listings of a
  -- backup of 80 000 files took 235 ms that way and 95 ms this way, in a file 13 % smaller; a no-change
  -- backup reads every one of them (docs/DECISIONS.md).
  CREATE TABLE trees_by_row (
    rid INTEGER NOT NULL,
    id BLOB NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (rid, id)
  );
  INSERT INTO trees_by_row (rid, id, data) SELECT rid, id, data FROM trees;
  DROP TABLE trees;
  ALTER TABLE trees_by_row RENAME TO trees;
  `,
];
