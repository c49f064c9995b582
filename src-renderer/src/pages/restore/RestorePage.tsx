import { useEffect } from 'react';
import { Tab, TabList, TabPanel, Tabs } from 'react-aria-components';

import {
  flowSelectors,
  flowStore,
  previewStore,
  useFlowStore,
  usePreviewStore,
} from '../../stores/restore/index.ts';
import { Banner } from '../../ui/Banner.tsx';
import { Button } from '../../ui/Button.tsx';
import { PageHeader } from '../../ui/PageHeader.tsx';
import { BrowseTab } from './BrowseTab.tsx';
import { EverythingTab } from './EverythingTab.tsx';
import { FindTab } from './FindTab.tsx';
import { LastCleanBanner } from './LastCleanBanner.tsx';
import { PreviewPane } from './PreviewPane.tsx';

/** Restore: three ways in (find a file, browse a point in time, everything at once) and a preview pane. */
export function RestorePage() {
  const previewOpen = usePreviewStore((s) => s.target !== undefined);
  const hidden = useFlowStore(flowSelectors.hidden);
  const step = useFlowStore(flowSelectors.step);

  useEffect(() => () => previewStore.getState().close(), []);

  return (
    <>
      <PageHeader
        title="Restore"
        description="Get back a file or a folder as it was at any backup: deleted, overwritten or encrypted by ransomware."
      />
      <LastCleanBanner />
      {hidden && step !== 'closed' ? (
        <Banner
          tone="info"
          title={step === 'done' ? 'The restore is finished' : 'A restore is running'}
          actions={
            <Button size="sm" onPress={() => flowStore.getState().show()}>
              {step === 'done' ? 'See what was restored' : 'Show its progress'}
            </Button>
          }
        />
      ) : null}
      <div className={`restore${previewOpen ? ' restore--with-preview' : ''}`}>
        <Tabs
          className="tabs restore__tabs"
          onSelectionChange={(key) => {
            // the preview belongs to a file of the first two tabs
            if (key === 'everything') previewStore.getState().close();
          }}
        >
          <TabList aria-label="Ways to restore" className="tabs__list">
            <Tab id="find" className="tabs__tab">
              Find a file
            </Tab>
            <Tab id="browse" className="tabs__tab">
              Browse a point in time
            </Tab>
            <Tab id="everything" className="tabs__tab">
              Restore everything
            </Tab>
          </TabList>
          <TabPanel id="find" className="tabs__panel">
            <FindTab />
          </TabPanel>
          <TabPanel id="browse" className="tabs__panel">
            <BrowseTab />
          </TabPanel>
          <TabPanel id="everything" className="tabs__panel">
            <EverythingTab />
          </TabPanel>
        </Tabs>
        <PreviewPane />
      </div>
    </>
  );
}
