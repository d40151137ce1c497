// Electron's security checklist as main/electron/guards.ts applies it, driven with
// stand-ins that behave like Electron's objects: the app emits 'web-contents-created',
// web contents emit navigation events whose preventDefault() stops them, the session
// calls its permission handlers. And the packaging fuses in electron-builder.yml.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { APP_ORIGIN, denyPermissions, fromOurPage, guardWebContents, isAppUrl, type GuardedContents, type GuardedSession } from '../../main/electron/guards.ts';
import { ROOT } from '../helpers.ts';

/** Electron's Event: preventDefault() marks it, and Electron then does not go on. */
class StandInEvent {
  defaultPrevented = false;
  constructor(readonly url = '') {}
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

class StandInContents extends EventEmitter implements GuardedContents {
  windowOpen: ((details: { url: string }) => { action: 'deny' | 'allow' }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.windowOpen = handler;
  }
  /** Emits like webContents: returns whether the default action still happens. */
  attempt(event: string, url = ''): boolean {
    const e = new StandInEvent(url);
    this.emit(event, e, url);
    return !e.defaultPrevented;
  }
}

function guardedContents(): StandInContents {
  const app = new EventEmitter();
  guardWebContents(app);
  const contents = new StandInContents();
  // Every web contents, the window's and any other (a devtools page, a popup), is guarded when created.
  app.emit('web-contents-created', new StandInEvent(), contents);
  return contents;
}

const FOREIGN = [
  'https://evil.example/', 'http://127.0.0.1:8080/', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,<script>1</script>',
  'glimpse://thumb/1', 'glimpse://photo/1', 'glimpse://app@evil.example/', 'glimpse://app.evil.example/', 'glimpse://user:pw@app/',
  'glimpsex://app/', 'about:blank', 'not a url', '',
];

test('navigation stays on the app: top frame, subframes and redirects', () => {
  const contents = guardedContents();
  for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
    assert.equal(contents.attempt(event, `${APP_ORIGIN}/index.html`), true, `${event} within the app`);
    assert.equal(contents.attempt(event, `${APP_ORIGIN}/index.html#/photo/3`), true);
    for (const url of FOREIGN) assert.equal(contents.attempt(event, url), false, `${event} to ${url} must be stopped`);
  }
});

test('no new windows and no webviews, whatever they would show', () => {
  const contents = guardedContents();
  assert.ok(contents.windowOpen, 'a window-open handler is set');
  for (const url of [`${APP_ORIGIN}/index.html`, ...FOREIGN]) assert.deepEqual(contents.windowOpen({ url }), { action: 'deny' });
  assert.equal(contents.attempt('will-attach-webview'), false);
});

test('isAppUrl accepts only glimpse://app pages', () => {
  assert.equal(isAppUrl('glimpse://app/'), true);
  assert.equal(isAppUrl('glimpse://app/assets/index.js'), true);
  for (const url of FOREIGN) assert.equal(isAppUrl(url), false, url);
  assert.equal(isAppUrl(undefined), false);
  assert.equal(isAppUrl({ toString: () => 'glimpse://app/' }), false);
});

test('every permission is denied: requests, checks and devices', () => {
  const handlers: Partial<{ request: Parameters<GuardedSession['setPermissionRequestHandler']>[0]; check: Parameters<GuardedSession['setPermissionCheckHandler']>[0]; device: Parameters<GuardedSession['setDevicePermissionHandler']>[0] }> = {};
  denyPermissions({
    setPermissionRequestHandler: (h) => { handlers.request = h; },
    setPermissionCheckHandler: (h) => { handlers.check = h; },
    setDevicePermissionHandler: (h) => { handlers.device = h; },
  });
  assert.ok(handlers.request && handlers.check && handlers.device, 'all three handlers are set');
  for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen', 'hid', 'usb', 'serial', 'unknown']) {
    let granted: boolean | undefined;
    handlers.request({}, permission, (g) => { granted = g; });
    assert.equal(granted, false, `${permission} request`);
    assert.equal(handlers.check({}, permission), false, `${permission} check`);
  }
  assert.equal(handlers.device({ deviceType: 'usb', origin: APP_ORIGIN }), false);
});

test('IPC is answered only for our window, its main frame, at our origin', () => {
  const window = { id: 1 };
  const main = { url: `${APP_ORIGIN}/index.html`, parent: null };
  assert.equal(fromOurPage({ sender: window, senderFrame: main }, window), true);
  assert.equal(fromOurPage({ sender: window, senderFrame: { url: `${APP_ORIGIN}/index.html`, parent: main } }, window), false, 'an iframe, even of our origin');
  assert.equal(fromOurPage({ sender: window, senderFrame: { url: 'https://evil.example/', parent: null } }, window), false, 'another origin in our window');
  assert.equal(fromOurPage({ sender: { id: 2 }, senderFrame: main }, window), false, 'another window');
  assert.equal(fromOurPage({ sender: window, senderFrame: null }, window), false, 'a frame already gone');
  assert.equal(fromOurPage({ sender: undefined, senderFrame: main }, undefined), false, 'before our window exists');
});

/** The flat `electronFuses:` block of electron-builder.yml, as key -> value. */
function fuses(): Record<string, string> {
  const lines = fs.readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8').split('\n');
  const start = lines.findIndex((l) => /^electronFuses:\s*$/.test(l));
  assert.ok(start >= 0, 'electron-builder.yml has an electronFuses block');
  const out: Record<string, string> = {};
  for (const line of lines.slice(start + 1)) {
    const m = /^\s+(\w+):\s*(\S+)\s*(#.*)?$/.exec(line);
    if (!m) break;
    out[m[1]!] = m[2]!;
  }
  return out;
}

test('the packaged app is built with the security fuses', () => {
  assert.deepEqual(fuses(), {
    runAsNode: 'false',
    enableNodeOptionsEnvironmentVariable: 'false',
    enableNodeCliInspectArguments: 'false',
    enableCookieEncryption: 'true',
    enableEmbeddedAsarIntegrityValidation: 'true',
    onlyLoadAppFromAsar: 'true',
    grantFileProtocolExtraPrivileges: 'false',
  });
});

test('the window keeps Node out of the page', () => {
  const source = fs.readFileSync(path.join(ROOT, 'main', 'electron', 'main.ts'), 'utf8');
  for (const setting of ['contextIsolation: true', 'sandbox: true', 'nodeIntegration: false', 'webSecurity: true', 'webviewTag: false']) {
    assert.ok(source.includes(setting), setting);
  }
  assert.match(source, /guardWebContents\(app/);
  assert.match(source, /denyPermissions\(session\.defaultSession\)/);
  assert.match(source, /fromOurPage\(event, window\?\.webContents\)/);
});
