/**
 * Ctrl-C handling: the first SIGINT aborts the running operation cleanly (it stops at the next safe point and
 * the command exits with 130); a second one exits at once.
 */
export function installCancelHandler(onFirst: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (): void => {
    if (controller.signal.aborted) process.exit(130);
    onFirst();
    controller.abort();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', handler) };
}
