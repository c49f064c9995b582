import { SignInPage } from './pages/access/SignInPage.tsx';
import { Shell } from './shell/Shell.tsx';
import { appSelectors, useAppStore } from './stores/app/index.ts';

export function App() {
  const unauthorized = useAppStore(appSelectors.isUnauthorized);
  return unauthorized ? <SignInPage /> : <Shell />;
}
