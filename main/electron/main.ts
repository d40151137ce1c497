// The Electron shell, kept thin: one window (context isolation, sandbox, no Node in
// the renderer, strict CSP), the glimpse:// protocol serving the UI and photos by
// id, IPC generated from the API contract, and the engine in a utilityProcess.
import path from 'node:path';
import { app, BrowserWindow, ipcMain, net, protocol, session, type IpcMainInvokeEvent } from 'electron';
import { pathToFileURL } from 'node:url';
import { ApiError, STREAMING } from '../api/contract.ts';
import { Api, isMethod } from '../api/dispatch.ts';
import { BUNDLED_PACKS, defaultLibrary } from '../cli/paths.ts';
import { Library } from '../library/library.ts';
import { utilityEngine } from './engine-process.ts';

const APP_ORIGIN = 'glimpse://app';
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' glimpse: blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";
// In the packaged app, resources sit beside the asar; in development, beside dist/.
const resources = app.isPackaged ? process.resourcesPath : path.resolve(import.meta.dirname, '..', '..');
const rendererDir = path.join(resources, 'renderer', 'dist');
const packsDir = app.isPackaged ? path.join(process.resourcesPath, 'models') : BUNDLED_PACKS;

protocol.registerSchemesAsPrivileged([{ scheme: 'glimpse', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

if (!app.requestSingleInstanceLock()) app.quit();

let library: Library | null = null;
let window: BrowserWindow | null = null;

/** Only our own page may call the API. */
function fromOurPage(event: IpcMainInvokeEvent): boolean {
  return event.senderFrame?.url.startsWith(`${APP_ORIGIN}/`) === true && event.sender === window?.webContents;
}

function toWire(err: unknown) {
  const e = err instanceof ApiError ? err : new ApiError('internal', String(err));
  return { ok: false as const, error: { code: e.code, message: e.message } };
}

function registerProtocol(): void {
  protocol.handle('glimpse', async (request) => {
    const url = new URL(request.url);
    try {
      if (url.host === 'app') {
        const file = path.resolve(rendererDir, decodeURIComponent(url.pathname.slice(1)) || 'index.html');
        if (!file.startsWith(rendererDir + path.sep)) return new Response('not found', { status: 404 });
        const res = await net.fetch(pathToFileURL(file).toString());
        return new Response(res.body, { headers: { 'Content-Type': res.headers.get('Content-Type') ?? 'text/html', 'Content-Security-Policy': CSP } });
      }
      // glimpse://thumb/<id>, glimpse://photo/<id>: by photo id, never by path
      const id = Number(url.pathname.slice(1));
      if (!library || !Number.isInteger(id) || id <= 0 || (url.host !== 'thumb' && url.host !== 'photo')) return new Response('not found', { status: 404 });
      const file = url.host === 'thumb' ? await library.thumbnail(id) : library.photo(id).paths[0];
      if (!file) return new Response('not found', { status: 404 });
      return net.fetch(pathToFileURL(file).toString());
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}

function wireIpc(api: Api): void {
  const running = new Map<string, AbortController>();
  ipcMain.handle('glimpse:call', async (event, method: unknown, input: unknown) => {
    if (!fromOurPage(event)) return { ok: false, error: { code: 'invalid-input', message: 'refused: not the Glimpse window' } };
    if (!isMethod(method) || STREAMING.has(method)) return { ok: false, error: { code: 'unknown-method', message: `unknown method ${String(method).slice(0, 80)}` } };
    try {
      return { ok: true, result: await api.call(method, input) };
    } catch (err) {
      return toWire(err);
    }
  });
  ipcMain.handle('glimpse:stream', async (event, call: unknown, method: unknown, input: unknown) => {
    if (!fromOurPage(event) || typeof call !== 'string' || call.length > 64) return { ok: false, error: { code: 'invalid-input', message: 'refused' } };
    const abort = new AbortController();
    running.set(call, abort);
    try {
      const result = await api.call(String(method), input, { signal: abort.signal, onToken: (text) => event.sender.send('glimpse:token', { call, text }) });
      return { ok: true, result };
    } catch (err) {
      return toWire(err);
    } finally {
      running.delete(call);
    }
  });
  ipcMain.on('glimpse:cancel', (event, call: unknown) => {
    if (event.sender === window?.webContents && typeof call === 'string') running.get(call)?.abort();
  });
}

async function createWindow(): Promise<void> {
  window = new BrowserWindow({
    width: 1280, height: 860, title: 'Glimpse', show: false,
    webPreferences: {
      preload: path.join(import.meta.dirname, 'preload.cjs'),
      contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true,
      spellcheck: false,
    },
  });
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.webContents.on('will-navigate', (e, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) e.preventDefault();
  });
  window.once('ready-to-show', () => window?.show());
  await window.loadURL(`${APP_ORIGIN}/index.html`);
}

app.on('second-instance', () => {
  if (window?.isMinimized()) window.restore();
  window?.focus();
});

app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  registerProtocol();
  library = await Library.open({
    dir: defaultLibrary(),
    packDirs: [packsDir, path.join(defaultLibrary(), 'models')],
    spawnEngine: utilityEngine(path.join(import.meta.dirname, 'engine-host.cjs')),
  });
  const api = new Api(library);
  wireIpc(api);
  for (const type of ['progress', 'idle', 'changed'] as const) {
    library.on(type, (data?: unknown) => window?.webContents.send('glimpse:event', { type, data: data ?? {} }));
  }
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
