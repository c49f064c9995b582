import { useMemo } from 'react';

import type { Alert, AlertSeverity } from '../../../../src-main/contract/model.ts';
import { alertsSelectors, alertsStore, useAlertsStore } from '../../stores/alerts/index.ts';
import { Panel } from '../../ui/Panel.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorNotice, Loading } from '../../ui/StatusView.tsx';

const SEVERITY_LABEL: Record<AlertSeverity, string> = {
  info: 'Info',
  warning: 'Warning',
  error: 'Error',
  critical: 'Critical',
};

function AlertItem({ alert }: { alert: Alert }) {
  const acknowledging = useAlertsStore(alertsSelectors.acknowledging(alert.id));
  return (
    <li className={`alert alert--${alert.severity}`} data-alert-id={alert.id} data-kind={alert.kind}>
      <div className="alert__head">
        <span className={`badge badge--${alert.severity}`}>{SEVERITY_LABEL[alert.severity]}</span>
        <span className="muted small">
          {formatTime(alert.raisedAt)}
          {alert.count > 1 ? ` · seen ${alert.count} times, last ${formatTime(alert.lastSeenAt)}` : ''}
          {alert.clearedAt ? ` · resolved ${formatTime(alert.clearedAt)}` : ''}
        </span>
        {alert.active ? (
          alert.acknowledgedAt ? (
            <span className="muted small alert__ack">acknowledged</span>
          ) : (
            <button
              type="button"
              className="alert__ack"
              onClick={() => void alertsStore.getState().acknowledge(alert.id)}
              disabled={acknowledging}
            >
              {acknowledging ? 'Acknowledging…' : 'Acknowledge'}
            </button>
          )
        ) : null}
      </div>
      <p className="alert__text">{alert.text}</p>
      {alert.action && alert.active ? <p className="alert__action">What to do: {alert.action}</p> : null}
    </li>
  );
}

export function AlertsPanel() {
  const items = useAlertsStore(alertsSelectors.items);
  const error = useAlertsStore(alertsSelectors.error);
  const initialLoading = useAlertsStore(alertsSelectors.isInitialLoading);
  const actionError = useAlertsStore(alertsSelectors.actionError);
  const { active, history } = useMemo(
    () => ({ active: items.filter((a) => a.active), history: items.filter((a) => !a.active) }),
    [items],
  );

  let body;
  if (error && items.length === 0)
    body = <ErrorNotice error={error} onRetry={() => void alertsStore.getState().load()} />;
  else if (initialLoading) body = <Loading what="alerts" />;
  else if (active.length === 0) body = <Empty>No open alerts.</Empty>;
  else
    body = (
      <ul className="alerts">
        {active.map((a) => (
          <AlertItem key={a.id} alert={a} />
        ))}
      </ul>
    );

  return (
    <Panel title="Alerts">
      {actionError ? <ErrorNotice error={actionError} /> : null}
      {body}
      {history.length > 0 ? (
        <details className="history">
          <summary>History ({history.length})</summary>
          <ul className="alerts alerts--history">
            {history.map((a) => (
              <AlertItem key={a.id} alert={a} />
            ))}
          </ul>
        </details>
      ) : null}
    </Panel>
  );
}
