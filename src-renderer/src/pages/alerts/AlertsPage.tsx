import { BellOff, Check, History } from 'lucide-react';
import { useMemo } from 'react';
import { Tab, TabList, TabPanel, Tabs } from 'react-aria-components';

import type { Alert, AlertSeverity } from '../../../../src-main/contract/model.ts';
import { alertsSelectors, alertsStore, useAlertsStore } from '../../stores/alerts/index.ts';
import { hrefOf } from '../../stores/router/index.ts';
import { sourcesSelectors, useSourcesStore } from '../../stores/sources/index.ts';
import { Button, LinkButton } from '../../ui/Button.tsx';
import { PageHeader } from '../../ui/PageHeader.tsx';
import { RelativeTime } from '../../ui/RelativeTime.tsx';
import { EmptyState, ErrorState, InlineError, Skeleton } from '../../ui/States.tsx';
import { StatusBadge, type Tone } from '../../ui/StatusBadge.tsx';
import { SEVERITY_LABEL } from '../../ui/words.ts';

const SEVERITY_TONE: Record<AlertSeverity, Tone> = {
  info: 'info',
  warning: 'warning',
  error: 'danger',
  critical: 'danger',
};

function SourceName({ sourceId }: { sourceId: string | undefined }) {
  const name = useSourcesStore(sourcesSelectors.nameOf(sourceId));
  return name ? <span className="alert__source">{name}</span> : null;
}

function AlertItem({ alert }: { alert: Alert }) {
  const acknowledging = useAlertsStore(alertsSelectors.acknowledging(alert.id));
  const titleId = `alert-${alert.id}`;
  return (
    <li
      className={`alert-item alert-item--${alert.severity}`}
      aria-labelledby={titleId}
      data-alert-id={alert.id}
      data-kind={alert.kind}
      data-active={alert.active ? 'true' : 'false'}
    >
      <div className="alert-item__head">
        <StatusBadge tone={SEVERITY_TONE[alert.severity]} critical={alert.severity === 'critical'}>
          {SEVERITY_LABEL[alert.severity]}
        </StatusBadge>
        <SourceName sourceId={alert.sourceId} />
        {alert.acknowledgedAt && alert.active ? (
          <StatusBadge tone="neutral" icon={Check}>
            Acknowledged
          </StatusBadge>
        ) : null}
        <span className="alert-item__when">
          <RelativeTime iso={alert.raisedAt} />
        </span>
      </div>
      <h2 id={titleId} className="alert-item__text">
        {alert.text}
      </h2>
      {alert.action && alert.active ? <p className="alert-item__action">What to do: {alert.action}</p> : null}
      <p className="alert-item__meta">
        {alert.count > 1 ? (
          <span>
            Seen {alert.count} times, last <RelativeTime iso={alert.lastSeenAt} />
          </span>
        ) : null}
        {alert.clearedAt ? (
          <span>
            Resolved <RelativeTime iso={alert.clearedAt} />
          </span>
        ) : null}
      </p>
      {alert.active ? (
        <div className="alert-item__actions">
          {alert.fix ? (
            <LinkButton href={hrefOf(alert.fix.page)} size="sm" variant="primary">
              {alert.fix.label}
              <span className="visually-hidden"> for: {alert.text}</span>
            </LinkButton>
          ) : null}
          {!alert.acknowledgedAt ? (
            <Button
              size="sm"
              icon={Check}
              onPress={() => void alertsStore.getState().acknowledge(alert.id)}
              isPending={acknowledging}
            >
              Acknowledge
              <span className="visually-hidden"> alert: {alert.text}</span>
            </Button>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

export function AlertsPage() {
  const items = useAlertsStore(alertsSelectors.items);
  const error = useAlertsStore(alertsSelectors.error);
  const initialLoading = useAlertsStore(alertsSelectors.isInitialLoading);
  const actionError = useAlertsStore(alertsSelectors.actionError);
  const { open, past } = useMemo(
    () => ({ open: items.filter((a) => a.active), past: items.filter((a) => !a.active) }),
    [items],
  );

  if (error && items.length === 0)
    return (
      <>
        <PageHeader title="Alerts" />
        <ErrorState
          error={error}
          title="Could not load the alerts"
          onRetry={() => void alertsStore.getState().load()}
        />
      </>
    );

  return (
    <>
      <PageHeader
        title="Alerts"
        description="What needs attention. An alert stays open until its cause is fixed; acknowledging it says you have seen it."
      />
      {actionError ? <InlineError error={actionError} prefix="Could not acknowledge" /> : null}
      {initialLoading ? (
        <Skeleton lines={3} label="Loading the alerts…" />
      ) : (
        <Tabs className="tabs">
          <TabList aria-label="Alerts" className="tabs__list">
            <Tab id="open" className="tabs__tab">
              Open ({open.length})
            </Tab>
            <Tab id="past" className="tabs__tab">
              Past ({past.length})
            </Tab>
          </TabList>
          <TabPanel id="open" className="tabs__panel">
            {open.length === 0 ? (
              <EmptyState icon={BellOff} title="No open alerts" headingLevel={2}>
                <p>
                  Nothing needs your attention here. New alerts appear on this page as soon as they are
                  raised.
                </p>
              </EmptyState>
            ) : (
              <ul className="alert-list" aria-label="Open alerts">
                {open.map((a) => (
                  <AlertItem key={a.id} alert={a} />
                ))}
              </ul>
            )}
          </TabPanel>
          <TabPanel id="past" className="tabs__panel">
            {past.length === 0 ? (
              <EmptyState icon={History} title="No past alerts" headingLevel={2}>
                <p>Alerts whose cause was fixed are kept here.</p>
              </EmptyState>
            ) : (
              <ul className="alert-list alert-list--past" aria-label="Past alerts">
                {past.map((a) => (
                  <AlertItem key={a.id} alert={a} />
                ))}
              </ul>
            )}
          </TabPanel>
        </Tabs>
      )}
    </>
  );
}
