import { snapshotsSelectors, snapshotsStore, useSnapshotsStore } from '../../stores/snapshots/index.ts';
import { Panel } from '../../ui/Panel.tsx';
import { formatBytes, formatTime } from '../../ui/format.ts';
import { Empty, ErrorNotice, Loading } from '../../ui/StatusView.tsx';

const reload = () => void snapshotsStore.getState().load();

export function SnapshotsPanel() {
  const items = useSnapshotsStore(snapshotsSelectors.items);
  const error = useSnapshotsStore(snapshotsSelectors.error);
  const initialLoading = useSnapshotsStore(snapshotsSelectors.isInitialLoading);
  const empty = useSnapshotsStore(snapshotsSelectors.isEmpty);
  const status = useSnapshotsStore(snapshotsSelectors.status);

  let body;
  if (error) body = <ErrorNotice error={error} onRetry={reload} />;
  else if (initialLoading) body = <Loading what="snapshots" />;
  else if (empty) body = <Empty>No snapshot yet: the first backup will appear here.</Empty>;
  else if (items.length === 0) body = <Empty>Not loaded.</Empty>;
  else
    body = (
      <table className="snapshots">
        <thead>
          <tr>
            <th>Time</th>
            <th>Source</th>
            <th>Host</th>
            <th>Files</th>
            <th>Size</th>
            <th>Added</th>
            <th>Locked until</th>
          </tr>
        </thead>
        <tbody>
          {items.map((snap) => (
            <tr key={snap.id}>
              <td>{formatTime(snap.time)}</td>
              <td>{snap.source}</td>
              <td>{snap.host}</td>
              <td className="num">{snap.stats.files}</td>
              <td className="num">{formatBytes(snap.stats.bytes)}</td>
              <td className="num">{formatBytes(snap.stats.bytesAdded)}</td>
              <td>{snap.retainUntil ? formatTime(snap.retainUntil) : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );

  return (
    <Panel
      title="Snapshots"
      actions={
        <button type="button" onClick={reload} disabled={status === 'loading'}>
          Refresh
        </button>
      }
    >
      {body}
    </Panel>
  );
}
