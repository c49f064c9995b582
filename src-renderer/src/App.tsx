import { Dashboard } from './features/dashboard/Dashboard.tsx';
import { NotAuthorized } from './features/access/NotAuthorized.tsx';
import { appSelectors, useAppStore } from './stores/app/index.ts';

export function App() {
  const unauthorized = useAppStore(appSelectors.isUnauthorized);
  return unauthorized ? <NotAuthorized /> : <Dashboard />;
}
