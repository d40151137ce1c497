// Exposes exactly the API contract to the page as `window.glimpse` (GlimpseBridge in
// main/api/wire.ts), nothing of Electron itself. The context bridge copies what
// crosses it: functions are proxied, promises survive only as a direct return value,
// and class instances (an AbortSignal, an Error's code) arrive as plain objects or
// not at all. So answers are Reply envelopes (plain data), a stream reports through
// callbacks, and the page cancels a stream by the id stream() returned.
import { contextBridge, ipcRenderer } from 'electron';
import { IPC, errorReply, isCallId, type GlimpseBridge, type Reply, type TokenMessage } from '../main/api/wire.ts';

const tokenListeners = new Map<string, (text: string) => void>();
ipcRenderer.on(IPC.token, (_event, msg: TokenMessage) => {
  if (typeof msg?.text === 'string') tokenListeners.get(msg.call)?.(msg.text);
});
const eventListeners = new Map<string, Set<(data: unknown) => void>>();
ipcRenderer.on(IPC.event, (_event, msg: { type: string; data: unknown }) => {
  for (const handler of eventListeners.get(msg?.type) ?? []) {
    try {
      handler(msg.data);
    } catch (err) {
      console.error(`glimpse: a ${msg.type} handler failed`, err);
    }
  }
});
let nextCall = 0;

/** An IPC failure (no handler yet, the main process gone) as a reply, so nothing throws across the bridge. */
const asReply = (err: unknown): Reply<never> => errorReply('internal', (err as Error)?.message ?? String(err));

export const bridge = {
  call: (method, input) => ipcRenderer.invoke(IPC.call, method, input).catch(asReply),
  stream: (method, input, onToken, onDone) => {
    const call = `c${++nextCall}`;
    tokenListeners.set(call, onToken);
    void ipcRenderer.invoke(IPC.stream, call, method, input).catch(asReply).then((reply) => {
      tokenListeners.delete(call);
      onDone(reply);
    });
    return call;
  },
  cancel: (call) => {
    // No token reaches the page after it cancelled; onDone still gets the reply (cancelled).
    if (isCallId(call) && tokenListeners.delete(call)) ipcRenderer.send(IPC.cancel, call);
  },
  on: (event, handler) => {
    const set = eventListeners.get(event) ?? new Set();
    set.add(handler as (data: unknown) => void);
    eventListeners.set(event, set);
    return () => {
      set.delete(handler as (data: unknown) => void);
    };
  },
  thumbUrl: (id) => `glimpse://thumb/${Number(id)}`,
  photoUrl: (id) => `glimpse://photo/${Number(id)}`,
} satisfies GlimpseBridge;

contextBridge.exposeInMainWorld('glimpse', bridge);
