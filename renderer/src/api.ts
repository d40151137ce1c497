// The renderer's one way to reach the library: the contract in main/api/contract.ts,
// typed end to end. Only TYPES are imported from main/, so nothing server-side is
// bundled. Electron's preload will expose the same interface as `window.glimpse`;
// in browser mode it is implemented over HTTP (methods) and one WebSocket (events
// and streamed answers), authorised by the cookie the page's `?token=` URL set.
import type { ApiErrorCode, Events, Input, Method, Results } from '../../main/api/contract.ts';

export type { Input, Method, Results };
export type StreamingMethod = 'caption' | 'ask';
export type PlainMethod = Exclude<Method, StreamingMethod>;
export type EventName = 'progress' | 'idle' | 'changed';
export type ErrorCode = ApiErrorCode | 'unauthorized' | 'forbidden' | 'network';

export interface GlimpseApi {
  /** A method that answers at once (everything but caption and ask). */
  call<M extends PlainMethod>(method: M, input: Input<M>): Promise<Results[M]>;
  /** caption or ask: `onToken` gets each piece of text as it is generated. */
  stream<M extends StreamingMethod>(method: M, input: Input<M>, onToken: (text: string) => void, signal?: AbortSignal): Promise<Results[M]>;
  /** Library events; returns the unsubscribe function. */
  on<E extends EventName>(event: E, handler: (data: Events[E]) => void): () => void;
  /** Whether the event channel is up (browser mode reconnects by itself); optional: IPC is always up. */
  onConnection?(handler: (connected: boolean) => void): () => void;
  thumbUrl(id: number): string;
  photoUrl(id: number): string;
}

export class GlimpseError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'GlimpseError';
  }
}

/** A message fit to show a person, for any error an API call can throw. */
export function describeError(err: unknown): string {
  if (err instanceof GlimpseError) {
    switch (err.code) {
      case 'unauthorized': return 'This page is not authorised: open the URL (with its token) printed by `npm run serve`.';
      case 'network': return `Cannot reach Glimpse: ${err.message}`;
      case 'no-pack': return `No usable model pack: ${err.message}`;
      default: return err.message;
    }
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

export const isAbort = (err: unknown): boolean => (err as Error)?.name === 'AbortError' || (err instanceof GlimpseError && err.code === 'cancelled');

type Listener = (data: unknown) => void;
interface Pending { onToken: (text: string) => void; resolve: (v: unknown) => void; reject: (e: Error) => void }

/** Browser mode: same-origin HTTP and WebSocket. */
export class BrowserApi implements GlimpseApi {
  private ws: WebSocket | null = null;
  private open = false;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly connection = new Set<(c: boolean) => void>();
  private readonly pending = new Map<string, Pending>();
  private readonly outbox: string[] = [];
  private nextCall = 1;
  private retryMs = 500;
  private everOpened = false;

  constructor(private readonly base = '') {}

  async call<M extends PlainMethod>(method: M, input: Input<M>): Promise<Results[M]> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/api/${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(input ?? {}),
        credentials: 'same-origin',
      });
    } catch (err) {
      throw new GlimpseError('network', (err as Error).message || 'the request failed');
    }
    let body: { ok: boolean; result?: Results[M]; error?: { code: ErrorCode; message: string } };
    try {
      body = await res.json();
    } catch {
      throw new GlimpseError('internal', `${method}: the server answered ${res.status} without JSON`);
    }
    if (body.ok) return body.result as Results[M];
    throw new GlimpseError(body.error?.code ?? 'internal', body.error?.message ?? `${method} failed (${res.status})`);
  }

  stream<M extends StreamingMethod>(method: M, input: Input<M>, onToken: (text: string) => void, signal?: AbortSignal): Promise<Results[M]> {
    if (signal?.aborted) return Promise.reject(new DOMException('cancelled', 'AbortError'));
    const call = `c${this.nextCall++}`;
    return new Promise<Results[M]>((resolve, reject) => {
      const cleanup = () => signal?.removeEventListener('abort', onAbort);
      const onAbort = () => {
        this.send(JSON.stringify({ cancel: call }));
        this.pending.delete(call);
        cleanup();
        reject(new DOMException('cancelled', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(call, {
        onToken,
        resolve: (v) => { cleanup(); resolve(v as Results[M]); },
        reject: (e) => { cleanup(); reject(e); },
      });
      this.send(JSON.stringify({ call, method, input }));
    });
  }

  on<E extends EventName>(event: E, handler: (data: Events[E]) => void): () => void {
    this.connect();
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(handler as Listener);
    return () => set.delete(handler as Listener);
  }

  onConnection(handler: (connected: boolean) => void): () => void {
    this.connect();
    this.connection.add(handler);
    if (this.open) handler(true);
    return () => this.connection.delete(handler);
  }

  thumbUrl(id: number): string {
    return `${this.base}/files/thumb/${id}`;
  }

  photoUrl(id: number): string {
    return `${this.base}/files/photo/${id}`;
  }

  private send(text: string): void {
    this.connect();
    if (this.open && this.ws) this.ws.send(text);
    else this.outbox.push(text);
  }

  private emit(event: string, data: unknown): void {
    for (const h of this.listeners.get(event) ?? []) {
      try {
        h(data);
      } catch (err) {
        console.error(`glimpse: ${event} handler failed`, err);
      }
    }
  }

  private connect(): void {
    if (this.ws) return;
    const url = new URL('/ws', this.base || window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.open = true;
      this.retryMs = 500;
      for (const h of this.connection) h(true);
      // Anything may have changed while we were away.
      if (this.everOpened) this.emit('changed', {});
      this.everOpened = true;
      for (const text of this.outbox.splice(0)) ws.send(text);
    };
    ws.onmessage = (e) => {
      let msg: { type: string; data: any };
      try {
        msg = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (msg.type === 'token') {
        this.pending.get(msg.data?.call)?.onToken(String(msg.data.text));
      } else if (msg.type === 'result') {
        const p = this.pending.get(msg.data?.call);
        if (!p) return;
        this.pending.delete(msg.data.call);
        if (msg.data.ok) p.resolve(msg.data.result);
        else p.reject(new GlimpseError(msg.data.error?.code ?? 'internal', msg.data.error?.message ?? 'the call failed'));
      } else if (msg.type === 'error') {
        console.warn('glimpse: the server refused a message', msg.data);
      } else {
        this.emit(msg.type, msg.data);
      }
    };
    ws.onclose = () => {
      this.open = false;
      this.ws = null;
      for (const h of this.connection) h(false);
      // Calls in flight on this socket will never get their result; unsent ones are dropped with them.
      this.outbox.length = 0;
      for (const [call, p] of this.pending) {
        this.pending.delete(call);
        p.reject(new GlimpseError('network', 'the connection to Glimpse was lost'));
      }
      const delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
      window.setTimeout(() => this.connect(), delay);
    };
  }
}

const CODES = new Set<string>(['invalid-input', 'unknown-method', 'not-found', 'not-a-folder', 'no-pack', 'nothing-indexed', 'not-indexed', 'invalid', 'cancelled', 'internal', 'unauthorized', 'forbidden', 'network']);

/** Any error from a provider (Electron's preload throws plain Errors, maybe with a `code`) as a GlimpseError. */
export function toGlimpseError(err: unknown): GlimpseError {
  if (err instanceof GlimpseError) return err;
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  // contextBridge may drop extra properties; a code written as "code: message" still comes through.
  const prefixed = /^([a-z-]+): (.*)$/s.exec(message);
  if (typeof code === 'string' && CODES.has(code)) return new GlimpseError(code as ErrorCode, message);
  if (prefixed && CODES.has(prefixed[1] as string)) return new GlimpseError(prefixed[1] as ErrorCode, prefixed[2] as string);
  return new GlimpseError('internal', message);
}

/** Electron's `window.glimpse`, with errors as GlimpseError and a cancelled stream as an AbortError. */
export class BridgeApi implements GlimpseApi {
  constructor(private readonly bridge: GlimpseApi) {}

  async call<M extends PlainMethod>(method: M, input: Input<M>): Promise<Results[M]> {
    try {
      return await this.bridge.call(method, input);
    } catch (err) {
      throw toGlimpseError(err);
    }
  }

  async stream<M extends StreamingMethod>(method: M, input: Input<M>, onToken: (text: string) => void, signal?: AbortSignal): Promise<Results[M]> {
    try {
      return await this.bridge.stream(method, input, onToken, signal);
    } catch (err) {
      if (signal?.aborted) throw new DOMException('cancelled', 'AbortError');
      throw toGlimpseError(err);
    }
  }

  on<E extends EventName>(event: E, handler: (data: Events[E]) => void): () => void {
    return this.bridge.on(event, handler);
  }

  onConnection(handler: (connected: boolean) => void): () => void {
    return this.bridge.onConnection?.(handler) ?? (() => undefined);
  }

  thumbUrl(id: number): string {
    return this.bridge.thumbUrl(id);
  }

  photoUrl(id: number): string {
    return this.bridge.photoUrl(id);
  }
}

declare global {
  interface Window {
    /** Provided by Electron's preload; absent in browser mode. */
    glimpse?: GlimpseApi;
  }
}

let instance: GlimpseApi | null = null;

/** Electron's `window.glimpse` when there is one, else browser mode. */
export function api(): GlimpseApi {
  instance ??= window.glimpse ? new BridgeApi(window.glimpse) : new BrowserApi();
  return instance;
}
