/**
 * npm run bench:signals, one run of each scenario (the bench itself runs three): normal office work raises
 * no signal at all (a false positive of any detector fails), and both attacks raise the alert, each through
 * the signals meant for it.
 */
import { describe, expect, it } from 'vitest';
import { runSignalsBench, summarize } from '../../bench/signals.ts';

describe('bench:signals', () => {
  it('normal work: no signal; encrypt-and-rename and in-place encryption: alerts', async () => {
    const results = await runSignalsBench({ trials: 1 });
    console.log(summarize(results).join('\n'));
    for (const r of results.filter((x) => !x.attack))
      expect(r, r.scenario).toMatchObject({ signals: [], alert: false });
    const by = new Map(results.map((r) => [r.scenario, r]));
    expect(by.get('encrypt-rename-200')).toMatchObject({ alert: true });
    expect(by.get('encrypt-rename-200')?.signals).toEqual(
      expect.arrayContaining(['rename-burst', 'ransom-extension', 'ransom-note', 'canary']),
    );
    expect(by.get('encrypt-in-place')).toMatchObject({ alert: true });
    expect(by.get('encrypt-in-place')?.signals).toEqual(expect.arrayContaining(['entropy-jump', 'canary']));
  }, 600_000);
});
