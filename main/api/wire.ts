// What crosses a boundary (HTTP, WebSocket, Electron IPC, the context bridge): the
// reply envelope, message shapes, channel and route names, streaming methods, event
// names and error codes, defined once for the server, the Electron shell, the preload
// and the renderer. No runtime imports: Vite bundles this into the page and esbuild
// into the sandboxed preload.
import type { Events, Input, Method, Results } from './contract.ts';

/** Methods whose text streams in (`token` messages) before the result arrives. */
export const STREAMING_METHODS = ['caption', 'ask'] as const satisfies readonly Method[];
export type StreamingMethod = (typeof STREAMING_METHODS)[number];
/** Methods that answer at once. */
export type PlainMethod = Exclude<Method, StreamingMethod>;

export function isStreaming(method: string): method is StreamingMethod {
  return (STREAMING_METHODS as readonly string[]).includes(method);
}

/** The library's events, pushed to every page. */
export const EVENT_NAMES = ['progress', 'idle', 'changed'] as const satisfies ReadonlyArray<keyof Events>;
export type EventName = (typeof EVENT_NAMES)[number];

/** Codes the contract's methods fail with. */
export const API_ERROR_CODES = [
  'invalid-input', 'unknown-method', 'not-found', 'not-a-folder', 'no-pack', 'nothing-indexed', 'not-indexed', 'invalid', 'cancelled', 'internal',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];
/** Codes only a transport produces: browser mode's token and origin checks, a lost connection. */
export const TRANSPORT_ERROR_CODES = ['unauthorized', 'forbidden', 'network'] as const;
export type ErrorCode = ApiErrorCode | (typeof TRANSPORT_ERROR_CODES)[number];

const ALL_CODES: ReadonlySet<string> = new Set([...API_ERROR_CODES, ...TRANSPORT_ERROR_CODES]);
export const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && ALL_CODES.has(code);

export interface WireError { code: ErrorCode; message: string }
/** Every answer, over every transport. */
export type Reply<T = unknown> = { ok: true; result: T } | { ok: false; error: WireError };

export const okReply = <T>(result: T): Reply<T> => ({ ok: true, result });
export const errorReply = (code: ErrorCode, message: string): { ok: false; error: WireError } => ({ ok: false, error: { code, message } });

/** A call id (WebSocket and IPC): a short string, chosen by the side that starts the call. */
export const MAX_CALL_ID = 64;
export const isCallId = (call: unknown): call is string => typeof call === 'string' && call.length > 0 && call.length <= MAX_CALL_ID;

/** Request bodies and WebSocket messages larger than this are refused. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** Browser mode's routes. */
export const ROUTES = { api: '/api/', socket: '/ws', thumb: '/files/thumb/', photo: '/files/photo/' } as const;
/** Browser mode's cookie, set from the `?token=` of the URL the server prints. */
export const TOKEN_COOKIE = 'glimpse_token';
export const TOKEN_PARAM = 'token';

/** Page → server over the WebSocket: start a call, or cancel one. */
export type SocketRequest = { call: string; method: string; input?: unknown } | { cancel: string };
export type TokenMessage = { call: string; text: string };
/** Server → page over the WebSocket. */
export type SocketMessage =
  | { type: EventName; data: Events[EventName] }
  | { type: 'token'; data: TokenMessage }
  | { type: 'result'; data: { call: string } & Reply }
  | { type: 'error'; data: WireError };

/** Electron's IPC channels between the preload and the main process. */
export const IPC = {
  /** invoke(method, input) → Reply */
  call: 'glimpse:call',
  /** invoke(call, method, input) → Reply; tokens arrive on `token` */
  stream: 'glimpse:stream',
  /** send(call) */
  cancel: 'glimpse:cancel',
  /** main → page: TokenMessage */
  token: 'glimpse:token',
  /** main → page: { type: EventName, data } */
  event: 'glimpse:event',
} as const;

/**
 * What the preload exposes as `window.glimpse`. Only values the context bridge carries
 * intact cross it: plain data, functions and promises returned directly. Errors travel
 * as data in a Reply (the bridge drops an Error's extra properties), and cancelling is
 * a call with the id `stream` returned (an AbortSignal would arrive as a plain object).
 */
export interface GlimpseBridge {
  call<M extends PlainMethod>(method: M, input: Input<M>): Promise<Reply<Results[M]>>;
  /** Starts caption or ask; `onToken` gets each piece of text, `onDone` the reply. Returns the call id. */
  stream<M extends StreamingMethod>(method: M, input: Input<M>, onToken: (text: string) => void, onDone: (reply: Reply<Results[M]>) => void): string;
  /** Stops a stream started here; its `onDone` then gets a `cancelled` error. */
  cancel(call: string): void;
  /** Library events; returns the unsubscribe function. */
  on<E extends EventName>(event: E, handler: (data: Events[E]) => void): () => void;
  thumbUrl(id: number): string;
  photoUrl(id: number): string;
}
