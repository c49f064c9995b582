import { ShieldAlert } from 'lucide-react';
import { useEffect, useState } from 'react';

import type { SourceSignals } from '../../../../src-main/contract/signals.ts';
import { getClient } from '../../api/index.ts';
import { useAlertsStore } from '../../stores/alerts/index.ts';
import { flowStore } from '../../stores/restore/index.ts';
import { sourcesSelectors, useSourcesStore } from '../../stores/sources/index.ts';
import { Banner } from '../../ui/Banner.tsx';
import { Button } from '../../ui/Button.tsx';
import { formatExact } from '../../ui/format.ts';

/**
 * While a ransomware alert is open for a folder: what was seen, the backup Bulwark kept as the last clean
 * one, and "Restore everything from the last clean backup" (the usual restore flow: where to, a plan before
 * anything is written). "This was me" and "It has been handled" resolve the alert (engine/signals).
 */
export function LastCleanBanner() {
  const sources = useSourcesStore(sourcesSelectors.items);
  // reloaded whenever a ransomware alert opens, changes or clears
  const alertKey = useAlertsStore((s) =>
    s.items
      .filter((a) => a.kind === 'ransomware-suspected')
      .map((a) => `${a.id}:${a.count}:${a.active ? 1 : 0}`)
      .join(','),
  );
  const [open, setOpen] = useState<readonly SourceSignals[]>([]);
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    void getClient()
      .call('bulwark:signals.list', {})
      .then((r) => {
        if (!live) return;
        if (r.ok) {
          setOpen(r.value.sources.filter((s) => s.incident !== undefined));
          setProblem(undefined);
        } else setProblem(r.error.message);
      });
    return () => {
      live = false;
    };
  }, [alertKey]);

  const resolve = async (sourceId: string, resolution: 'was-me' | 'handled'): Promise<void> => {
    setBusy(true);
    const r = await getClient().call('bulwark:signals.resolve', { sourceId, resolution });
    setBusy(false);
    if (r.ok) setOpen((cur) => cur.filter((s) => s.sourceId !== sourceId));
    else setProblem(r.error.message);
  };

  return (
    <>
      {problem !== undefined ? (
        <Banner tone="warning" title="Could not check for a ransomware alert">
          <p>{problem}</p>
        </Banner>
      ) : null}
      {open.map((s) => {
        const name = sources.find((x) => x.id === s.sourceId)?.name ?? 'a folder';
        const clean = s.incident?.lastClean;
        const seen = s.incident?.signals.map((x) => x.text) ?? [];
        return (
          <Banner
            key={s.sourceId}
            tone="danger"
            icon={ShieldAlert}
            title={`Possible ransomware in ${name}`}
            actions={
              <>
                {clean ? (
                  <Button
                    variant="primary"
                    size="sm"
                    onPress={() =>
                      flowStore.getState().begin({
                        sourceId: s.sourceId,
                        snapshotId: clean.snapshotId,
                        paths: [''],
                        label: `everything in ${name} from the last clean backup`,
                        time: clean.time,
                      })
                    }
                  >
                    Restore everything from the last clean backup
                  </Button>
                ) : null}
                <Button size="sm" isDisabled={busy} onPress={() => void resolve(s.sourceId, 'was-me')}>
                  This was me
                </Button>
                <Button size="sm" isDisabled={busy} onPress={() => void resolve(s.sourceId, 'handled')}>
                  It has been handled
                </Button>
              </>
            }
          >
            <p>Seen: {[...new Set(seen)].slice(0, 3).join('; ')}.</p>
            <p>
              {clean
                ? `The last clean backup is from ${formatExact(clean.time)}; it is kept${
                    clean.heldUntil ? ` and locked until at least ${formatExact(clean.heldUntil)}` : ''
                  }. Backups go on, and nothing made before can be changed.`
                : 'There is no backup of this folder from before it began.'}
            </p>
            {s.incident?.holdProblem ? <p>{s.incident.holdProblem}</p> : null}
          </Banner>
        );
      })}
    </>
  );
}
