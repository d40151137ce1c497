// A stand-in for the `electron` module as the preload sees it, behaving like Electron
// where the bridge design depends on it (the Electron binary cannot be downloaded
// here). hooks.mjs makes `import ... from 'electron'` load this file.
//
// contextBridge.exposeInMainWorld copies the API into the page's world as Electron
// documents (docs/api/context-bridge.md, "Parameter / Error / Return Type support"):
// functions are proxied, and what crosses them is copied again in the other direction;
// promises are proxied; objects and arrays are copied and frozen, keeping own
// enumerable keys only, so a class instance (an AbortSignal) arrives as a plain object
// without its methods; an Error keeps its message and loses custom properties; symbols
// are dropped. ipcRenderer and ipcMain pass messages with structured clone (a function
// cannot be sent) and deliver them asynchronously, in order.
import { EventEmitter } from 'node:events';

/** The page's `window`: what the preload exposed, as the page sees it. */
export const mainWorld: Record<string, unknown> = {};

const crossError = (err: unknown) => new Error(err instanceof Error ? err.message : String(err));

/** A value as it arrives on the other side of the context bridge. */
export function cross(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  switch (typeof value) {
    case 'string': case 'number': case 'boolean': case 'bigint': return value;
    case 'symbol': return undefined;
    case 'function': {
      const fn = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = fn(...args.map(cross));
        } catch (err) {
          throw crossError(err);
        }
        return cross(result);
      };
    }
    default: break;
  }
  if (value instanceof Promise) return new Promise((resolve, reject) => value.then((v) => resolve(cross(v)), (e) => reject(crossError(e))));
  if (value instanceof Error) return crossError(value);
  if (Array.isArray(value)) return Object.freeze(value.map(cross));
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp || value instanceof Map || value instanceof Set) return structuredClone(value);
  // Any other object, whatever its class: own enumerable string keys, copied; the prototype is dropped.
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = cross((value as Record<string, unknown>)[key]);
    if (v !== undefined) copy[key] = v;
  }
  return Object.freeze(copy);
}

export const contextBridge = {
  exposeInMainWorld(key: string, api: unknown): void {
    if (Object.hasOwn(mainWorld, key)) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${key}`);
    mainWorld[key] = cross(api);
  },
};

/** Messages from the preload, to the main process. */
const toMain = new EventEmitter();
const handlers = new Map<string, Listener>();
/** Messages from the main process, to the preload. */
const toRenderer = new EventEmitter();
const later = (fn: () => void) => setImmediate(fn);

/** What the main process sees as the sender of a message; tests may change the frame. */
export const sender = {
  id: 1,
  destroyed: false,
  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    const copies = structuredClone(args);
    later(() => toRenderer.emit(channel, { sender: null }, ...copies));
  },
  isDestroyed(): boolean {
    return this.destroyed;
  },
};
export const frame = { url: 'glimpse://app/index.html', parent: null as unknown };
const mainEvent = () => ({ sender, senderFrame: { url: frame.url, parent: frame.parent } });
type Listener = (event: ReturnType<typeof mainEvent>, ...args: unknown[]) => unknown;

export const ipcRenderer = {
  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    const copies = structuredClone(args);
    return new Promise((resolve, reject) => later(() => {
      const handler = handlers.get(channel);
      if (!handler) return reject(new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`));
      // The reply travels the same ordered channel as sender.send: a message the handler sent
      // before it returned arrives first (resolving at once let the reply overtake its last tokens).
      Promise.resolve()
        .then(() => handler(mainEvent(), ...copies))
        .then((result) => {
          const copy = structuredClone(result);
          later(() => resolve(copy));
        }, (err) => later(() => reject(new Error(`Error invoking remote method '${channel}': ${err}`))));
    }));
  },
  send(channel: string, ...args: unknown[]): void {
    const copies = structuredClone(args);
    later(() => toMain.emit(channel, mainEvent(), ...copies));
  },
  on(channel: string, listener: Listener): unknown {
    toRenderer.on(channel, listener);
    return this;
  },
};

export const ipcMain = {
  handle(channel: string, listener: Listener): void {
    if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    handlers.set(channel, listener);
  },
  on(channel: string, listener: Listener): unknown {
    toMain.on(channel, listener);
    return this;
  },
};
