import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * For pipeline threads that leave large Buffers behind (ciphertext: Node has no encrypt/decrypt-into-buffer
 * call). V8 counts them as external memory and collects them late, so a thread would sit on tens of MiB of
 * garbage that glibc then keeps in its per-thread arena. The returned function runs a minor GC (the garbage
 * is young; a full GC cost ~25 ms each, 15 % of a backup's CPU) after every `everyBytes` of such Buffers
 * (measured: docs/DECISIONS.md).
 */
export function gcEvery(everyBytes: number): (bytes: number) => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
  const collect = (): void => gc({ type: 'minor' });
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since >= everyBytes) {
      since = 0;
      collect();
    }
  };
}
