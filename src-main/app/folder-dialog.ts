import type { ParsedRequestOf, ResponseOf } from '../contract/ipc.ts';
import { ok, type Result } from '../contract/result.ts';

/**
 * fs.pickFolder: the computer's own folder dialog, opened by the main process over the window (the page
 * itself cannot: it is sandboxed). Electron's dialog comes in through `showOpenDialog`.
 */

export interface OpenDialogOptions {
  title: string;
  buttonLabel: string;
  defaultPath?: string;
  properties: ('openDirectory' | 'createDirectory' | 'dontAddToRecent')[];
}

export type ShowOpenDialog = (
  options: OpenDialogOptions,
) => Promise<{ canceled: boolean; filePaths: string[] }>;

const WORDS = {
  source: { title: 'Choose a folder to back up', buttonLabel: 'Back up this folder' },
  target: { title: 'Choose where to keep the backups', buttonLabel: 'Keep backups here' },
  'restore-destination': { title: 'Choose where to restore the files', buttonLabel: 'Restore here' },
} as const;

export function createPickFolderHandler(
  showOpenDialog: ShowOpenDialog,
): (req: ParsedRequestOf<'bulwark:fs.pickFolder'>) => Promise<Result<ResponseOf<'bulwark:fs.pickFolder'>>> {
  return async ({ purpose, startPath }) => {
    const { canceled, filePaths } = await showOpenDialog({
      ...WORDS[purpose],
      ...(startPath !== undefined ? { defaultPath: startPath } : {}),
      // restoring or a new backup folder may need a new folder; a source is an existing one
      properties:
        purpose !== 'source'
          ? ['openDirectory', 'createDirectory', 'dontAddToRecent']
          : ['openDirectory', 'dontAddToRecent'],
    });
    const path = filePaths[0];
    return ok(canceled || path === undefined ? {} : { path });
  };
}
