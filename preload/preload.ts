// Exposes exactly the API contract to the page, nothing of Electron itself.
import { contextBridge, ipcRenderer } from 'electron';
import type { Events, Method } from '../main/api/contract.ts';

type Reply = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };
const tokenListeners = new Map<string, (text: string) => void>();
ipcRenderer.on('glimpse:token', (_e, msg: { call: string; text: string }) => tokenListeners.get(msg.call)?.(msg.text));
const eventListeners = new Map<keyof Events, Set<(data: unknown) => void>>();
ipcRenderer.on('glimpse:event', (_e, msg: { type: keyof Events; data: unknown }) => eventListeners.get(msg.type)?.forEach((h) => h(msg.data)));
let nextCall = 0;

const unwrap = (reply: Reply) => {
  if (reply.ok) return reply.result;
  // Only the message survives the context bridge, so the code travels inside it.
  throw new Error(`${reply.error.code}: ${reply.error.message}`);
};

contextBridge.exposeInMainWorld('glimpse', {
  call: async (method: Method, input: unknown) => unwrap(await ipcRenderer.invoke('glimpse:call', method, input)),
  stream: async (method: Method, input: unknown, onToken: (text: string) => void, signal?: AbortSignal) => {
    const call = `c${++nextCall}`;
    tokenListeners.set(call, onToken);
    signal?.addEventListener('abort', () => ipcRenderer.send('glimpse:cancel', call), { once: true });
    try {
      return unwrap(await ipcRenderer.invoke('glimpse:stream', call, method, input));
    } finally {
      tokenListeners.delete(call);
    }
  },
  on: (event: keyof Events, handler: (data: unknown) => void) => {
    const set = eventListeners.get(event) ?? new Set();
    set.add(handler);
    eventListeners.set(event, set);
    return () => set.delete(handler);
  },
  thumbUrl: (id: number) => `glimpse://thumb/${Number(id)}`,
  photoUrl: (id: number) => `glimpse://photo/${Number(id)}`,
});
