// Runs the backup service in its own process so a test can kill -9 it during a backup.
// usage: node service-child.ts HOME SOURCE_ID PASSWORD
import { createBackupService } from '../../../../src-main/engine/service/service.ts';

const [home, sourceId, password] = process.argv.slice(2);
const svc = createBackupService({
  home: home!,
  passwordFor: () => password!,
  kdf: { N: 1024, r: 8, p: 1 },
  watch: { enabled: false },
});
svc.on('job.state', (e) => process.stdout.write(`${e.job.state} ${e.job.runId ?? ''}\n`));
svc.on('job.progress', (p) => process.stdout.write(`PROGRESS ${p.bytesDone}\n`));
svc.runNow(sourceId!);
setInterval(() => undefined, 1000); // stay alive until killed
