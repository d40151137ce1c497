// Where the library and the bundled packs live, shared by the CLI and the servers.
import os from 'node:os';
import path from 'node:path';

export const BUNDLED_PACKS = path.resolve(import.meta.dirname, '..', '..', 'models');

/** $GLIMPSE_LIBRARY, else the platform's user data folder. */
export function defaultLibrary(): string {
  if (process.env.GLIMPSE_LIBRARY) return process.env.GLIMPSE_LIBRARY;
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Glimpse');
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Glimpse');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'glimpse');
}
