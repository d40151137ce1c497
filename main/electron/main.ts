// The Electron shell, kept thin: one window (context isolation, sandbox, no Node in
// the renderer, strict CSP), the glimpse:// protocol serving the UI and photos by
// id, the contract over IPC (ipc.ts), the security checklist applied app-wide
// (guards.ts), and the engine in a utilityProcess. Packaging fuses: electron-builder.yml.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, ipcMain, net, protocol, session } from 'electron';
import { Api } from '../api/dispatch.ts';
import { fileRequest, photoFile } from '../api/files.ts';
import { BUNDLED_PACKS, defaultLibrary } from '../cli/paths.ts';
import { Library } from '../library/library.ts';
import { worldSamples } from '../library/samples.ts';
import { utilityEngine } from './engine-process.ts';
import { APP_HOST, APP_ORIGIN, APP_SCHEME, denyPermissions, fromOurPage, guardWebContents } from './guards.ts';
import { forwardEvents, serveIpc } from './ipc.ts';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' glimpse: blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";
// In the packaged app, resources sit beside the asar; in development, beside dist/.
const resources = app.isPackaged ? process.resourcesPath : path.resolve(import.meta.dirname, '..', '..');
const rendererDir = path.join(resources, 'renderer', 'dist');
const packsDir = app.isPackaged ? path.join(process.resourcesPath, 'models') : BUNDLED_PACKS;
const log = (message: string) => console.warn(`glimpse: ${message}`);

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
// Before any window exists, so that no web contents escapes the guard.
guardWebContents(app, log);

if (!app.requestSingleInstanceLock()) app.quit();

let library: Library | null = null;
let window: BrowserWindow | null = null;

const notFound = () => new Response('not found', { status: 404 });

function registerProtocol(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    try {
      const url = new URL(request.url);
      if (url.host === APP_HOST) {
        const rel = decodeURIComponent(url.pathname.slice(1)) || 'index.html';
        const file = path.resolve(rendererDir, rel);
        if (rel.includes('\0') || !file.startsWith(rendererDir + path.sep)) return notFound();
        const res = await net.fetch(pathToFileURL(file).toString());
        return new Response(res.body, { status: res.status, headers: { 'Content-Type': res.headers.get('Content-Type') ?? 'text/html', 'Content-Security-Policy': CSP } });
      }
      // glimpse://thumb/<id>, glimpse://photo/<id>: by photo id, never by path
      const wanted = fileRequest(url.host, url.pathname.slice(1));
      const found = library && wanted ? await photoFile(library, wanted.kind, wanted.id) : null;
      if (!found) return notFound();
      const res = await net.fetch(pathToFileURL(found.file).toString());
      return new Response(res.body, { status: res.status, headers: { 'Content-Type': found.type } });
    } catch {
      return notFound();
    }
  });
}

async function createWindow(): Promise<void> {
  window = new BrowserWindow({
    width: 1280, height: 860, title: 'Glimpse', show: false,
    webPreferences: {
      preload: path.join(import.meta.dirname, 'preload.cjs'),
      contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true,
      webviewTag: false, spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window?.show());
  await window.loadURL(`${APP_ORIGIN}/index.html`);
}

app.on('second-instance', () => {
  if (window?.isMinimized()) window.restore();
  window?.focus();
});

app.whenReady().then(async () => {
  denyPermissions(session.defaultSession);
  registerProtocol();
  library = await Library.open({
    dir: defaultLibrary(),
    packDirs: [packsDir, path.join(defaultLibrary(), 'models')],
    spawnEngine: utilityEngine(path.join(import.meta.dirname, 'engine-host.cjs')),
    // A source checkout offers the shapes world's sample photos; a packaged app has no world/.
    samples: worldSamples(resources),
  });
  const api = new Api(library);
  serveIpc(ipcMain, api, (event) => fromOurPage(event, window?.webContents));
  forwardEvents(api, () => window?.webContents ?? null);
  await createWindow();
});

// Graceful shutdown: the library finishes the batch in flight and its database writes first.
let closing = false;
app.on('before-quit', (event) => {
  if (closing || !library) return;
  event.preventDefault();
  closing = true;
  void library.close().finally(() => app.quit());
});
app.on('window-all-closed', () => app.quit());
