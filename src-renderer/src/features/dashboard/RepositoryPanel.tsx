import { repositorySelectors, repositoryStore, useRepositoryStore } from '../../stores/repository/index.ts';
import { Panel } from '../../ui/Panel.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorNotice, Loading } from '../../ui/StatusView.tsx';

const reload = () => void repositoryStore.getState().load();

export function RepositoryPanel() {
  const status = useRepositoryStore(repositorySelectors.status);
  const info = useRepositoryStore(repositorySelectors.info);
  const error = useRepositoryStore(repositorySelectors.error);
  const notConfigured = useRepositoryStore(repositorySelectors.isNotConfigured);

  let body;
  if (notConfigured) body = <Empty>No repository yet: connect a target to start protecting folders.</Empty>;
  else if (error) body = <ErrorNotice error={error} onRetry={reload} />;
  else if (!info) body = status === 'loading' ? <Loading what="repository" /> : <Empty>Not loaded.</Empty>;
  else
    body = (
      <dl className="facts">
        <dt>Target</dt>
        <dd>
          {info.target.kind} · {info.target.location}
        </dd>
        <dt>Immutability</dt>
        <dd>
          {info.immutability.mode}
          {info.immutability.defaultRetentionDays !== undefined
            ? `, ${info.immutability.defaultRetentionDays} days by default`
            : ''}
        </dd>
        <dt>Encrypted</dt>
        <dd>{info.encrypted ? 'yes' : 'no'}</dd>
        <dt>Snapshots</dt>
        <dd>{info.snapshotCount}</dd>
        <dt>Created</dt>
        <dd>{formatTime(info.createdAt)}</dd>
      </dl>
    );

  return <Panel title="Repository">{body}</Panel>;
}
