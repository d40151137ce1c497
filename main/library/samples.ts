// "Try sample photos" for the entry points of a source checkout: the shapes world's
// command (world/cli.ts) writes them in its own process, so the product never links
// the training world. Where world/ is not shipped (a packaged app), there are none.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LibraryError, type SampleMaker } from './library.ts';

const SIDECAR = 'glimpse-samples.scenes.json';

/** A SampleMaker running `world/cli.ts samples` below `root` (the repository), or undefined when it is not there. */
export function worldSamples(root: string): SampleMaker | undefined {
  const cli = path.join(root, 'world', 'cli.ts');
  if (!fs.existsSync(cli)) return undefined;
  return async (out, count) => {
    if (!fs.existsSync(path.join(out, SIDECAR))) {
      const args = ['--import', 'tsx', cli, 'samples', '--count', String(count), '--seed', '7', '--size', '256', '--out', out, '--force'];
      // Under Electron (a source checkout only: packaged apps have no world/) its binary runs as plain Node.
      const env = process.versions.electron ? { ...process.env, ELECTRON_RUN_AS_NODE: '1' } : process.env;
      const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
      const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('exit', resolve));
      if (code !== 0) throw new LibraryError('invalid', `the sample photos could not be made: ${stderr.trim() || `exit code ${code}`}`);
    }
    return path.join(out, 'photos');
  };
}
