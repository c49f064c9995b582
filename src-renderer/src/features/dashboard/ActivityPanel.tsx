import { jobsSelectors, useJobsStore } from '../../stores/jobs/index.ts';
import { Panel } from '../../ui/Panel.tsx';
import { formatBytes } from '../../ui/format.ts';

function JobRow({ jobId }: { jobId: string }) {
  const job = useJobsStore(jobsSelectors.job(jobId));
  if (!job) return null;
  const p = job.progress;
  return (
    <li>
      <strong>{job.kind ?? 'job'}</strong> {job.state}
      {p ? (
        <>
          {' '}
          · {p.phase} · {formatBytes(p.bytesDone)}
          {p.bytesTotal !== undefined ? (
            <>
              {' '}
              of {formatBytes(p.bytesTotal)} <progress max={p.bytesTotal} value={p.bytesDone} />
            </>
          ) : null}
        </>
      ) : null}
      {job.error ? <span className="status--error"> · {job.error.message}</span> : null}
    </li>
  );
}

export function ActivityPanel() {
  const order = useJobsStore(jobsSelectors.order);
  if (order.length === 0) return null;
  return (
    <Panel title="Activity">
      <ul>
        {order.map((id) => (
          <JobRow key={id} jobId={id} />
        ))}
      </ul>
    </Panel>
  );
}
