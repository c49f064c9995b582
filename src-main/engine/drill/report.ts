/**
 * The drill report an auditor can file: one self-contained HTML page (no script, no outside resource, styles
 * for screen and print) listing, per source, what was tested, when, by which schedule, the results, the
 * times, the estimated full-restore time against the RTO, and the trend over the last drills.
 */
import { sizeText } from '../ops/restore.ts';
import type { DrillRecord } from './store.ts';

export interface DrillReportInput {
  drills: readonly DrillRecord[];
  /** when the report was made (ms) */
  generatedAt: number;
  /** e.g. the computer's name */
  subtitle?: string;
  /** IANA time zone for dates (default: the process's) */
  timeZone?: string;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** 125 -> "2 min 5 s"; 7260 -> "2 h 1 min" (for people). */
export function durationText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds < 1) return 'under 1 s';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (seconds < 3600) {
    const m = Math.floor(seconds / 60);
    const s = Math.round(seconds - m * 60);
    return s > 0 && m < 10 ? `${m} min ${s} s` : `${minutes} min`;
  }
  const h = Math.floor(minutes / 60);
  const m = minutes - h * 60;
  if (h >= 48) return `${Math.round(h / 24)} days`;
  return m > 0 ? `${h} h ${m} min` : `${h} h`;
}

export const rateText = (bytesPerSecond: number): string =>
  bytesPerSecond > 0 ? `${sizeText(Math.round(bytesPerSecond))}/s` : '-';

/** One line for people: "Passed: 52 files (3.1 MB) restored intact" or why it failed. */
export function drillOutcomeText(d: DrillRecord): string {
  if (d.error !== null) return `Could not run: ${d.error}`;
  if (!d.passed)
    return `Failed: ${d.failures.length} of ${d.filesTested} ${d.filesTested === 1 ? 'file' : 'files'} did not come back intact`;
  return `Passed: ${d.filesTested} ${d.filesTested === 1 ? 'file' : 'files'} (${sizeText(d.bytesTested)}) restored intact`;
}

/** "about 2 h 10 min — within the 4 h allowed" / "— longer than the 4 h allowed". */
export function rtoText(d: DrillRecord): string {
  if (d.estimatedFullSeconds === null) return 'not measured';
  const est = `about ${durationText(d.estimatedFullSeconds)}`;
  if (d.rtoMinutes === null) return est;
  const allowed = durationText(d.rtoMinutes * 60);
  return d.rtoVerdict === 'exceeded'
    ? `${est}, longer than the ${allowed} allowed`
    : `${est}, within the ${allowed} allowed`;
}

export function renderDrillReportHtml(input: DrillReportInput): string {
  const fmt = new Intl.DateTimeFormat('en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    ...(input.timeZone ? { timeZone: input.timeZone } : {}),
  });
  const when = (ms: number): string => fmt.format(new Date(ms));
  const bySource = new Map<string, DrillRecord[]>();
  for (const d of [...input.drills].sort((a, b) => b.startedAt - a.startedAt)) {
    const key = `${d.repositoryId}\0${d.source}`;
    const list = bySource.get(key);
    if (list) list.push(d);
    else bySource.set(key, [d]);
  }
  const sections = [...bySource.values()].map((list) => sourceSection(list, when)).join('\n');
  const passed = input.drills.filter((d) => d.passed).length;
  const summary =
    input.drills.length === 0
      ? '<p>No restore test has been run yet.</p>'
      : `<p>${input.drills.length} restore ${input.drills.length === 1 ? 'test' : 'tests'} listed, ${passed} passed, ${input.drills.length - passed} failed.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Bulwark restore test report</title>
<style>
  :root { color-scheme: light; }
  body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a1a1a; background: #fff; margin: 2rem; }
  h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #999; padding-bottom: .25rem; }
  h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
  h4 { font-size: .95rem; margin: .75rem 0 .25rem; }
  table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ccc; vertical-align: top; }
  th { background: #f0f0f0; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .passed { color: #0b6b2b; font-weight: 600; }
  .failed { color: #a30000; font-weight: 600; }
  .muted { color: #555; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
  dt { font-weight: 600; }
  dd { margin: 0; }
  code { font-family: ui-monospace, monospace; font-size: .9em; word-break: break-all; }
  @media print { body { margin: 1cm; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
</style>
</head>
<body>
<h1>Restore test report</h1>
<p class="muted">Made by Bulwark on ${escapeHtml(when(input.generatedAt))}${input.subtitle ? ` · ${escapeHtml(input.subtitle)}` : ''}</p>
<p>Each test restores files from a backup into a temporary folder, checks every byte against the backup,
measures how fast it goes, and estimates how long restoring everything would take (compared with the longest
time allowed, the recovery time objective). The temporary folder is removed afterwards.</p>
${summary}
${sections}
</body>
</html>
`;
}

function sourceSection(list: DrillRecord[], when: (ms: number) => string): string {
  const latest = list[0]!;
  const rows = list
    .map((d) => {
      const cls = d.passed ? 'passed' : 'failed';
      return `<tr>
  <td>${escapeHtml(when(d.startedAt))}</td>
  <td><code>${escapeHtml((d.snapshotId ?? '-').slice(0, 12))}</code>${d.snapshotTime ? `<br><span class="muted">${escapeHtml(when(Date.parse(d.snapshotTime)))}</span>` : ''}</td>
  <td>${escapeHtml(d.schedule)}<br><span class="muted">${d.trigger === 'schedule' ? 'on schedule' : 'started by hand'}</span></td>
  <td>${d.mode === 'full' ? 'everything' : 'a sample'}</td>
  <td class="num">${d.filesTested} of ${d.filesTotal}<br><span class="muted">${escapeHtml(sizeText(d.bytesTested))} of ${escapeHtml(sizeText(d.bytesTotal))}</span></td>
  <td class="${cls}">${d.passed ? 'Passed' : 'Failed'}${d.failures.length > 0 ? ` (${d.failures.length})` : ''}</td>
  <td class="num">${escapeHtml(durationText(d.restoreMs / 1000))}<br><span class="muted">${escapeHtml(rateText(d.throughput))}</span></td>
  <td>${escapeHtml(rtoText(d))}</td>
</tr>`;
    })
    .join('\n');
  const problems = list
    .filter((d) => !d.passed)
    .map(
      (d) => `<h4>${escapeHtml(when(d.startedAt))}: ${escapeHtml(drillOutcomeText(d))}</h4>
<ul>${d.failures.map((f) => `<li><code>${escapeHtml(f.path)}</code>: ${escapeHtml(f.message)}</li>`).join('')}</ul>`,
    )
    .join('\n');
  return `<section>
<h2>${escapeHtml(latest.sourceName || latest.source)}</h2>
<dl>
  <dt>Backup destination</dt><dd><code>${escapeHtml(latest.location)}</code></dd>
  <dt>Schedule</dt><dd>${escapeHtml(latest.schedule)}</dd>
  <dt>Latest test</dt><dd class="${latest.passed ? 'passed' : 'failed'}">${escapeHtml(drillOutcomeText(latest))}</dd>
  <dt>Full restore</dt><dd>${escapeHtml(rtoText(latest))}</dd>
</dl>
<h3>The last ${list.length === 1 ? 'test' : `${list.length} tests`}</h3>
<table>
<thead><tr><th>Tested on</th><th>Backup</th><th>Schedule</th><th>What</th><th>Files tested</th><th>Result</th><th>Time, speed</th><th>Estimated full restore</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${problems ? `<h3>Files that did not come back intact</h3>\n${problems}` : ''}
</section>`;
}
