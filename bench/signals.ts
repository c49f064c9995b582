#!/usr/bin/env node
/**
 * The ransomware signals' false-positive bench (issue 13): normal office work and two attacks, each run
 * against the real service (real folder, the real chokidar watcher, real backups to a folder target, so
 * the entropy check sees what the backup's compressor saw), and every signal each run raised.
 *
 *   npm run bench:signals -- [--trials N] [--scenarios a,b,...] [--json]
 *
 * Normal work (a signal here is a false positive): edits in place, Word/Excel-style saves through a temp
 * file and renames, a 2 000-file unzip, a software update replacing 300 program files. Attacks (a signal
 * here is a detection): 200 documents encrypted and renamed to .locky with a ransom note, and every
 * document encrypted in place (same names, no note). Prints, per scenario and per signal, in how many of
 * the runs it fired; exits 1 when a normal scenario raised an alert or an attack raised none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createBackupService, type BackupService } from '../src-main/engine/service/service.ts';
import { SIGNAL_KINDS, type SignalKind } from '../src-main/engine/signals/types.ts';
import {
  editDocuments,
  encryptAndRename,
  encryptInPlace,
  makeOffice,
  Rng,
  saveLikeWord,
  softwareUpdate,
  unzip,
} from './office-work.ts';

export interface Scenario {
  name: string;
  attack: boolean;
  run(root: string, rng: Rng): void;
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'edits', attack: false, run: (root, rng) => editDocuments(root, rng, 60) },
  { name: 'word-saves', attack: false, run: (root, rng) => saveLikeWord(root, rng, 100) },
  { name: 'unzip-2000', attack: false, run: (root, rng) => unzip(root, rng, 2000) },
  { name: 'software-update', attack: false, run: (root, rng) => void softwareUpdate(root, rng) },
  { name: 'encrypt-rename-200', attack: true, run: (root) => void encryptAndRename(root, 'locky') },
  { name: 'encrypt-in-place', attack: true, run: (root) => void encryptInPlace(root) },
];

export interface TrialResult {
  scenario: string;
  attack: boolean;
  /** the signals the run raised (each kind once) */
  signals: SignalKind[];
  alert: boolean;
  /** ms from the end of the scenario's writes to the alert (attacks) */
  alertAfterMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** One run of one scenario on a fresh office folder and a fresh service. */
export async function runTrial(scenario: Scenario, seed: number): Promise<TrialResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-signals-'));
  const office = join(dir, 'office');
  makeOffice(office, seed, { docs: 200, appFiles: 300 });
  let svc: BackupService | undefined;
  try {
    svc = createBackupService({
      home: join(dir, 'home'),
      passwordFor: () => 'bench',
      kdf: { N: 1024, r: 8, p: 1 },
      backup: { readers: 2 },
    });
    const service = svc;
    const seen = new Set<SignalKind>();
    let alertAt: number | undefined;
    service.on('ransomware.incident', (inc) => {
      for (const s of inc.signals) seen.add(s.kind);
    });
    service.on('alert.raised', (a) => {
      if (a.kind === 'ransomware-suspected') alertAt ??= Date.now();
    });
    const source = await service.addSource({ name: 'Office', paths: [office], quietSeconds: 1 });
    service.setCanaries(source.id, true); // opt in: decoys in the folder and its first sub-folders
    await service.start();
    const good = (): number =>
      service.history({ sourceId: source.id }).filter((r) => r.state === 'succeeded').length;
    await until(() => good() >= 1, 'the first backup', 120_000);
    await service.whenIdle();
    await service.whenWatching();
    scenario.run(office, new Rng(seed + 1));
    const wrote = Date.now();
    await until(() => good() >= 2, 'the backup after the scenario', 120_000);
    await service.whenIdle();
    await sleep(500); // late watcher events
    await service.signals.whenIdle();
    return {
      scenario: scenario.name,
      attack: scenario.attack,
      signals: SIGNAL_KINDS.filter((k) => seen.has(k)),
      alert: alertAt !== undefined,
      ...(alertAt !== undefined ? { alertAfterMs: Math.max(0, alertAt - wrote) } : {}),
    };
  } finally {
    await svc?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runSignalsBench(opts: {
  trials: number;
  scenarios?: readonly string[];
}): Promise<TrialResult[]> {
  const chosen = SCENARIOS.filter((s) => !opts.scenarios || opts.scenarios.includes(s.name));
  const out: TrialResult[] = [];
  for (const s of chosen) for (let i = 0; i < opts.trials; i++) out.push(await runTrial(s, 1000 + i));
  return out;
}

/** Per scenario: runs, runs with an alert, and per signal the runs it fired in. */
export function summarize(results: readonly TrialResult[]): string[] {
  const lines = [['scenario', 'kind', 'runs', 'alert', ...SIGNAL_KINDS].join('\t')];
  for (const name of [...new Set(results.map((r) => r.scenario))]) {
    const rs = results.filter((r) => r.scenario === name);
    const frac = (n: number): string => `${n}/${rs.length}`;
    lines.push(
      [
        name,
        rs[0]?.attack ? 'attack' : 'normal',
        String(rs.length),
        frac(rs.filter((r) => r.alert).length),
        ...SIGNAL_KINDS.map((k) => frac(rs.filter((r) => r.signals.includes(k)).length)),
      ].join('\t'),
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string', default: '3' },
      scenarios: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const trials = Math.max(1, Number(values.trials));
  const results = await runSignalsBench({
    trials,
    ...(values.scenarios ? { scenarios: values.scenarios.split(',') } : {}),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else for (const l of summarize(results)) process.stdout.write(`${l}\n`);
  const falseAlerts = results.filter((r) => !r.attack && r.alert).length;
  const missed = results.filter((r) => r.attack && !r.alert).length;
  const normal = results.filter((r) => !r.attack).length;
  process.stdout.write(
    `false-positive alerts: ${falseAlerts}/${normal} normal runs; attacks missed: ${missed}/${results.length - normal}\n`,
  );
  if (falseAlerts > 0 || missed > 0) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
