// Electron's security checklist, applied app-wide: no web contents may navigate away
// from the app, open windows or attach webviews; no permission is ever granted; IPC
// is answered only for our own window's main frame at our own origin. Written against
// the few members of Electron's objects it uses, so the tests can drive it with
// stand-ins that behave like Electron (events with preventDefault) and main.ts passes
// the real app, session and window.

export const APP_SCHEME = 'glimpse';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** Whether `url` is a page of the app itself (glimpse://app/...). */
export function isAppUrl(url: unknown): boolean {
  if (typeof url !== 'string') return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

export interface PreventableEvent { preventDefault(): void }
export interface NavigationEvent extends PreventableEvent { url: string }

export interface GuardedContents {
  on(event: 'will-navigate', listener: (event: NavigationEvent) => void): unknown;
  on(event: 'will-frame-navigate', listener: (event: NavigationEvent) => void): unknown;
  on(event: 'will-redirect', listener: (event: NavigationEvent) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export interface GuardedApp {
  on(event: 'web-contents-created', listener: (event: unknown, contents: GuardedContents) => void): unknown;
}

export interface GuardedSession {
  setPermissionRequestHandler(handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void;
  setDevicePermissionHandler(handler: (details: unknown) => boolean): void;
}

/** Every web contents the app ever creates stays on the app's own pages, alone. */
export function guardWebContents(app: GuardedApp, log: (message: string) => void = () => undefined): void {
  app.on('web-contents-created', (_event, contents) => {
    const stayHome = (event: NavigationEvent) => {
      if (isAppUrl(event.url)) return;
      event.preventDefault();
      log(`navigation to ${String(event.url).slice(0, 200)} blocked`);
    };
    contents.on('will-navigate', stayHome);
    contents.on('will-frame-navigate', stayHome);
    contents.on('will-redirect', stayHome);
    contents.on('will-attach-webview', (event) => {
      event.preventDefault();
      log('a <webview> was refused');
    });
    contents.setWindowOpenHandler(({ url }) => {
      log(`window.open(${String(url).slice(0, 200)}) refused`);
      return { action: 'deny' };
    });
  });
}

/** The app asks for no permission (camera, notifications, clipboard, USB...), so none is granted. */
export function denyPermissions(session: GuardedSession): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}

export interface IpcSenderEvent {
  sender: unknown;
  senderFrame: { url: string; parent: unknown } | null;
}

/** IPC is ours only from our window, from its main frame (no iframe), showing our own origin. */
export function fromOurPage(event: IpcSenderEvent, ours: unknown): boolean {
  const frame = event.senderFrame;
  return ours !== undefined && ours !== null && event.sender === ours && frame !== null && frame.parent === null && isAppUrl(frame.url);
}
