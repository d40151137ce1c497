// The real Electron app, driven by Playwright's _electron. Runs only where an Electron
// binary exists (it cannot be downloaded on the build machines); skips with a reason otherwise.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers.ts';

function electronBinary(): string | null {
  const pathFile = path.join(ROOT, 'node_modules', 'electron', 'path.txt');
  if (!fs.existsSync(pathFile)) return null;
  const bin = path.join(ROOT, 'node_modules', 'electron', 'dist', fs.readFileSync(pathFile, 'utf8').trim());
  return fs.existsSync(bin) ? bin : null;
}

const binary = electronBinary();
const playwright = await import('playwright-core').catch(() => null);
const skip = binary === null ? 'no Electron binary here (node_modules/electron/dist is missing: run `npx install-electron` with network access)'
  : playwright === null ? 'playwright-core is not installed' : false;

test('the Electron window is isolated and shows the app', { skip }, async () => {
  const built = path.join(ROOT, 'dist', 'electron', 'main.cjs');
  assert.ok(fs.existsSync(built), 'run `npm run build:electron` first');
  const app = await playwright!._electron.launch({ executablePath: binary!, args: [built], env: { ...process.env, GLIMPSE_LIBRARY: fs.mkdtempSync('/tmp/glimpse-electron-') } });
  try {
    const page = await app.firstWindow();
    assert.equal(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require), 'undefined', 'no Node in the page');
    assert.equal(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process), 'undefined', 'no Node in the page');
    assert.equal(await page.evaluate(() => typeof (globalThis as { ipcRenderer?: unknown }).ipcRenderer), 'undefined', 'nothing of Electron in the page');
    assert.equal(await page.evaluate(() => typeof (globalThis as { glimpse?: { call?: unknown } }).glimpse?.call), 'function');
  } finally {
    await app.close();
  }
});
