// The renderer's one way to reach the library: the contract in main/api/, typed end
// to end. From main/ only TYPES and the dependency-free wire module (main/api/wire.ts)
// are imported, so nothing server-side is bundled. Electron's preload exposes a
// GlimpseBridge as `window.glimpse` (BridgeApi adapts it); in browser mode the same
// interface runs over HTTP (methods) and one WebSocket (events and streamed answers),
// authorised by the cookie the page's `?token=` URL set.
import type { Events, Input, Method, Results } from '../../main/api/contract.ts';
import {
  ROUTES, TOKEN_PARAM, isErrorCode,
  type ErrorCode, type EventName, type GlimpseBridge, type PlainMethod, type Reply, type SocketMessage, type StreamingMethod,
} from '../../main/api/wire.ts';

export type { ErrorCode, EventName, Input, Method, PlainMethod, Results, StreamingMethod };

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

const aborted = () => new DOMException('cancelled', 'AbortError');

/** A reply envelope's result, or its error as a GlimpseError. */
function unwrap<T>(reply: Reply<T> | undefined, what: string): T {
  if (reply?.ok === true) return reply.result;
  const error = reply?.ok === false ? reply.error : undefined;
  throw new GlimpseError(isErrorCode(error?.code) ? error.code : 'internal', typeof error?.message === 'string' ? error.message : `${what} failed`);
}

/**
 * The address bar keeps `?token=` only until the server has set the cookie (it does so
 * with the page itself); after the first authorised answer it is dropped, so the token
 * is not left in history, bookmarks or a shared screenshot.
 */
function dropTokenFromAddressBar(): void {
  const url = new URL(window.location.href);
  if (!url.searchParams.has(TOKEN_PARAM)) return;
  url.searchParams.delete(TOKEN_PARAM);
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
}

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
      res = await fetch(`${this.base}${ROUTES.api}${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(input ?? {}),
        credentials: 'same-origin',
      });
    } catch (err) {
      throw new GlimpseError('network', (err as Error).message || 'the request failed');
    }
    if (res.status !== 401) dropTokenFromAddressBar();
    let body: Reply<Results[M]>;
    try {
      body = await res.json();
    } catch {
      throw new GlimpseError('internal', `${method}: the server answered ${res.status} without JSON`);
    }
    return unwrap(body, `${method} (${res.status})`);
  }

  stream<M extends StreamingMethod>(method: M, input: Input<M>, onToken: (text: string) => void, signal?: AbortSignal): Promise<Results[M]> {
    if (signal?.aborted) return Promise.reject(aborted());
    const call = `c${this.nextCall++}`;
    return new Promise<Results[M]>((resolve, reject) => {
      const cleanup = () => signal?.removeEventListener('abort', onAbort);
      const onAbort = () => {
        this.send(JSON.stringify({ cancel: call }));
        this.pending.delete(call);
        cleanup();
        reject(aborted());
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
    return `${this.base}${ROUTES.thumb}${id}`;
  }

  photoUrl(id: number): string {
    return `${this.base}${ROUTES.photo}${id}`;
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

  private received(msg: SocketMessage): void {
    switch (msg.type) {
      case 'token':
        this.pending.get(msg.data.call)?.onToken(String(msg.data.text));
        return;
      case 'result': {
        const p = this.pending.get(msg.data.call);
        if (!p) return;
        this.pending.delete(msg.data.call);
        try {
          p.resolve(unwrap(msg.data, 'the call'));
        } catch (err) {
          p.reject(err as Error);
        }
        return;
      }
      case 'error':
        console.warn('glimpse: the server refused a message', msg.data);
        return;
      default:
        this.emit(msg.type, msg.data);
    }
  }

  private connect(): void {
    if (this.ws) return;
    const url = new URL(ROUTES.socket, this.base || window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.open = true;
      this.retryMs = 500;
      dropTokenFromAddressBar();
      for (const h of this.connection) h(true);
      // Anything may have changed while we were away.
      if (this.everOpened) this.emit('changed', {});
      this.everOpened = true;
      for (const text of this.outbox.splice(0)) ws.send(text);
    };
    ws.onmessage = (e) => {
      let msg: SocketMessage;
      try {
        msg = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (typeof msg?.type === 'string' && typeof msg.data === 'object' && msg.data !== null) this.received(msg);
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

/**
 * Electron's `window.glimpse` (a GlimpseBridge) as a GlimpseApi: replies unwrapped into
 * results or GlimpseErrors, and an AbortSignal, which cannot cross the context bridge,
 * turned into a cancel(id) call.
 */
export class BridgeApi implements GlimpseApi {
  constructor(private readonly bridge: GlimpseBridge) {}

  async call<M extends PlainMethod>(method: M, input: Input<M>): Promise<Results[M]> {
    let reply: Reply<Results[M]>;
    try {
      reply = await this.bridge.call(method, input);
    } catch (err) {
      throw new GlimpseError('internal', (err as Error)?.message ?? String(err));
    }
    return unwrap(reply, method);
  }

  stream<M extends StreamingMethod>(method: M, input: Input<M>, onToken: (text: string) => void, signal?: AbortSignal): Promise<Results[M]> {
    if (signal?.aborted) return Promise.reject(aborted());
    return new Promise<Results[M]>((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        this.bridge.cancel(call);
        reject(aborted());
      };
      const call = this.bridge.stream(method, input, (text) => {
        if (!settled) onToken(text);
      }, (reply) => {
        signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        try {
          resolve(unwrap(reply, method));
        } catch (err) {
          reject(err as Error);
        }
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  on<E extends EventName>(event: E, handler: (data: Events[E]) => void): () => void {
    return this.bridge.on(event, handler);
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
    glimpse?: GlimpseBridge;
  }
}

let instance: GlimpseApi | null = null;

/** Electron's `window.glimpse` when there is one, else browser mode. */
export function api(): GlimpseApi {
  instance ??= window.glimpse ? new BridgeApi(window.glimpse) : new BrowserApi();
  return instance;
}
