// Runs one backup in its own process so a test can kill -9 it mid-run.
// usage: node backup-child.ts REPO_DIR CATALOG PASSWORD PACK_TARGET PATH...
import { backup } from '../../../src-main/engine/backup/backup.ts';
import { Catalog } from '../../../src-main/engine/catalog/catalog.ts';
import { Repository } from '../../../src-main/engine/repo/repository.ts';
import { FsStore } from '../../../src-main/engine/storage/fs.ts';

const [repoDir, catalogPath, password, packTarget, ...paths] = process.argv.slice(2);
const repo = await Repository.open(new FsStore({ root: repoDir! }), password!, Catalog.open(catalogPath!));
const snap = await backup(repo, { paths, packTarget: Number(packTarget), uploadConcurrency: 1 });
process.stdout.write(`${snap.id}\n`);
