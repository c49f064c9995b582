import { LogOut, Pause, Play } from 'lucide-react';
import { useState } from 'react';
import { Tab, TabList, TabPanel, Tabs, type Key } from 'react-aria-components';

import { signOut } from '../../api/http.ts';
import { TOKEN_STORAGE_KEY } from '../../api/token.ts';
import { appSelectors, useAppStore } from '../../stores/app/index.ts';
import { jobsSelectors, jobsStore, useJobsStore } from '../../stores/jobs/index.ts';
import { notifyStore } from '../../stores/notify/index.ts';
import { serviceStore } from '../../stores/service/index.ts';
import { themeSelectors, themeStore, useThemeStore, type ThemePreference } from '../../stores/theme/index.ts';
import { Banner } from '../../ui/Banner.tsx';
import { Button } from '../../ui/Button.tsx';
import { Card } from '../../ui/Card.tsx';
import { RadioGroup } from '../../ui/fields.tsx';
import { PageHeader } from '../../ui/PageHeader.tsx';
import { InlineError } from '../../ui/States.tsx';
import { AuditSection } from './AuditSection.tsx';
import { NotificationsSection } from './NotificationsSection.tsx';

const THEMES = [
  { value: 'system', label: 'System' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
] as const satisfies readonly { value: ThemePreference; label: string }[];

async function signOutHere() {
  await signOut({ baseUrl: window.location.origin });
  try {
    window.sessionStorage.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    // nothing kept
  }
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}`);
  window.location.reload();
}

const TABS = ['general', 'notifications', 'audit'] as const;
type SettingsTab = (typeof TABS)[number];

/** `#/settings/audit` opens the Audit log tab (a link or a reload keeps the tab). */
function tabFromHash(hash: string): SettingsTab {
  const sub = hash.replace(/^#\/?/, '').split('/')[1] ?? '';
  return (TABS as readonly string[]).includes(sub) ? (sub as SettingsTab) : 'general';
}

export function SettingsPage() {
  const [tab, setTab] = useState<SettingsTab>(() => tabFromHash(window.location.hash));
  function selectTab(key: Key) {
    const next = tabFromHash(`#/settings/${String(key)}`);
    setTab(next);
    window.history.replaceState(
      null,
      '',
      `${window.location.pathname}${window.location.search}#/settings${next === 'general' ? '' : `/${next}`}`,
    );
  }
  const preference = useThemeStore(themeSelectors.preference);
  const paused = useJobsStore(jobsSelectors.paused);
  const pending = useJobsStore(jobsSelectors.pending);
  const actionError = useJobsStore(jobsSelectors.actionError);
  const version = useAppStore(appSelectors.version);
  const transport = useAppStore(appSelectors.transport);

  async function togglePause() {
    if (paused) await jobsStore.getState().resumeAll();
    else await jobsStore.getState().pauseAll();
    void serviceStore.getState().load();
    if (!jobsStore.getState().actionError)
      notifyStore
        .getState()
        .toast(
          jobsStore.getState().paused ? 'Backups are paused' : 'Backups are running again',
          jobsStore.getState().paused ? 'warning' : 'success',
        );
  }

  return (
    <>
      <PageHeader title="Settings" />
      <Tabs className="settings__tabs" selectedKey={tab} onSelectionChange={selectTab}>
        <TabList aria-label="Settings sections" className="tabs__list">
          <Tab id="general" className="tabs__tab">
            General
          </Tab>
          <Tab id="notifications" className="tabs__tab">
            Notifications
          </Tab>
          <Tab id="audit" className="tabs__tab">
            Audit log
          </Tab>
        </TabList>
        <TabPanel id="notifications" className="tabs__panel">
          <NotificationsSection />
        </TabPanel>
        <TabPanel id="audit" className="tabs__panel">
          <AuditSection />
        </TabPanel>
        <TabPanel id="general" className="tabs__panel">
          <div className="settings">
            <Card title="Appearance">
              <RadioGroup
                label="Theme"
                description="“System” follows the light or dark setting of this computer."
                orientation="horizontal"
                value={preference}
                onChange={(v) => themeStore.getState().setPreference(v)}
                choices={THEMES}
              />
            </Card>

            <Card title="Backups">
              {paused ? (
                <Banner tone="warning" title="Backups are paused">
                  Nothing is backed up until you resume. Changes made meanwhile are not protected.
                </Banner>
              ) : (
                <p>
                  Bulwark backs up every folder when it changes and on its schedule. Pause it for a while if
                  the computer or the network must not be busy (for example during a large copy).
                </p>
              )}
              <div className="actions-row">
                <Button
                  variant={paused ? 'primary' : 'secondary'}
                  icon={paused ? Play : Pause}
                  onPress={() => void togglePause()}
                  isPending={pending}
                >
                  {paused ? 'Resume all backups' : 'Pause all backups'}
                </Button>
              </div>
              {actionError ? <InlineError error={actionError} /> : null}
            </Card>

            {transport === 'http' ? (
              <Card title="Signing in">
                <p>
                  This browser is signed in to Bulwark’s service with its sign-in link. The link is shown on
                  the office computer when Bulwark is set up; whoever set it up can show it again (with{' '}
                  <code className="mono">bulwark serve --print-token</code>).
                </p>
                <p>
                  Anyone with the link can see the backups and change their settings: keep it private, and
                  sign out on a computer other people use.
                </p>
                <div className="actions-row">
                  <Button icon={LogOut} onPress={() => void signOutHere()}>
                    Sign out of this browser
                  </Button>
                </div>
              </Card>
            ) : null}

            <Card title="About">
              <dl className="facts facts--columns">
                <div>
                  <dt>Version</dt>
                  <dd>
                    {version
                      ? `${version.name === 'bulwark' ? 'Bulwark' : version.name} ${version.version}`
                      : 'Bulwark'}
                  </dd>
                </div>
                <div>
                  <dt>Running</dt>
                  <dd>
                    {transport === 'http'
                      ? 'In a web browser, connected to the service'
                      : 'As the desktop app'}
                  </dd>
                </div>
                {version ? (
                  <>
                    <div>
                      <dt>System</dt>
                      <dd>{version.platform}</dd>
                    </div>
                    <div>
                      <dt>Components</dt>
                      <dd>
                        Node.js {version.runtime.node}
                        {version.runtime.electron ? `, Electron ${version.runtime.electron}` : ''}
                      </dd>
                    </div>
                  </>
                ) : null}
              </dl>
            </Card>
          </div>
        </TabPanel>
      </Tabs>
    </>
  );
}
