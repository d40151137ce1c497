// The contract over Electron's IPC, for the preload (preload/preload.ts): every
// answer is a Reply envelope (plain data, so the error code survives the bridge),
// streamed text goes back as `token` messages, and the page cancels a stream by its
// call id. Only our own window's main frame is answered (guards.ts).
import type { Api } from '../api/dispatch.ts';
import { IPC, EVENT_NAMES, errorReply, isCallId, isStreaming, type TokenMessage } from '../api/wire.ts';
import type { IpcSenderEvent } from './guards.ts';

export interface IpcSender {
  send(channel: string, message: unknown): void;
  isDestroyed(): boolean;
}
export interface IpcEvent extends IpcSenderEvent { sender: IpcSender }

/** The two members of Electron's ipcMain used here. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEvent, ...args: unknown[]) => Promise<unknown>): void;
  on(channel: string, listener: (event: IpcEvent, ...args: unknown[]) => void): unknown;
}

const refused = () => errorReply('forbidden', 'refused: not the Glimpse window');

/** `trusted(event)` decides whether a message comes from our page. */
export function serveIpc(ipcMain: IpcMainLike, api: Api, trusted: (event: IpcEvent) => boolean): void {
  const running = new Map<string, AbortController>();
  const post = (sender: IpcSender, channel: string, message: unknown) => {
    // The window may close while a stream is still answering.
    if (!sender.isDestroyed()) sender.send(channel, message);
  };

  ipcMain.handle(IPC.call, async (event, method, input) => {
    if (!trusted(event)) return refused();
    if (typeof method === 'string' && isStreaming(method)) return errorReply('unknown-method', `${method} streams: use stream()`);
    return api.reply(method, input);
  });

  ipcMain.handle(IPC.stream, async (event, call, method, input) => {
    if (!trusted(event)) return refused();
    if (!isCallId(call)) return errorReply('invalid-input', 'a stream needs a call id of 1 to 64 characters');
    if (typeof method !== 'string' || !isStreaming(method)) return errorReply('unknown-method', `${String(method).slice(0, 80)} does not stream`);
    if (running.has(call)) return errorReply('invalid-input', `call ${call} is already running`);
    const abort = new AbortController();
    running.set(call, abort);
    try {
      return await api.reply(method, input, {
        signal: abort.signal,
        onToken: (text) => post(event.sender, IPC.token, { call, text } satisfies TokenMessage),
      });
    } finally {
      running.delete(call);
    }
  });

  ipcMain.on(IPC.cancel, (event, call) => {
    if (trusted(event) && isCallId(call)) running.get(call)?.abort();
  });
}

/** Library events to the page, as { type, data } on the event channel; returns the unsubscribe function. */
export function forwardEvents(api: Api, target: () => IpcSender | null): () => void {
  const offs = EVENT_NAMES.map((type) => api.on(type, (data) => {
    const sender = target();
    if (sender && !sender.isDestroyed()) sender.send(IPC.event, { type, data });
  }));
  return () => offs.forEach((off) => off());
}
