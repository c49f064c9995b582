/**
 * Disaster recovery on a new computer (docs/DECISIONS.md, "Restore drills and disaster recovery"): once the
 * repository of the old computer is a target again and the catalog has been rebuilt from it, each folder it
 * holds backups of becomes a source again, under the same id (the snapshots name their source
 * `service:<id>`, so the Restore page finds them at once), paused: its folders may not exist here, and
 * backing up from this computer should be a choice someone makes (resume the source), not a side effect.
 */
import { basename } from 'node:path';
import { isBulwarkError } from '../errors.ts';
import type { SnapshotManifest } from '../repo/format.ts';
import type { Repository } from '../repo/repository.ts';
import type { ServiceConfig, Source } from './sources.ts';

const SERVICE_SOURCE = /^service:(.+)$/;

export interface AdoptResult {
  /** the sources recreated now (paused) */
  added: Source[];
  /** sources of the repository already configured here */
  existing: Source[];
  /** backups the service did not make (the command line's): restore them with `bulwark restore` */
  otherSnapshots: number;
  /** folders that could not become a source here (a Windows path on Linux...): why */
  skipped: { paths: string[]; message: string }[];
}

/** A source's name from its folders: "Documents", "Documents, Accounts". */
function nameOf(paths: readonly string[]): string {
  const names = paths.map((p) => basename(p.replace(/[\\/]+$/, '')) || p);
  const text = names.join(', ');
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** Recreates, paused, every source whose backups are in `repo` and that is not configured yet. */
export function adoptRepositorySources(
  config: ServiceConfig,
  repo: Repository,
  targetId: string,
): AdoptResult {
  const latest = new Map<string, SnapshotManifest>();
  let other = 0;
  for (const snap of repo.catalog.snapshots(repo.rid)) {
    const m = SERVICE_SOURCE.exec(snap.source);
    if (!m?.[1]) {
      other++;
      continue;
    }
    latest.set(m[1], snap); // oldest first: the newest wins
  }
  const result: AdoptResult = { added: [], existing: [], otherSnapshots: other, skipped: [] };
  for (const [id, snap] of latest) {
    const known = config.findSource(id);
    if (known) {
      result.existing.push(known);
      continue;
    }
    try {
      result.added.push(
        config.addSource({ name: nameOf(snap.paths), paths: snap.paths, targetId, enabled: false }, { id }),
      );
    } catch (e) {
      if (!isBulwarkError(e)) throw e;
      result.skipped.push({ paths: snap.paths, message: e.message });
    }
  }
  return result;
}
