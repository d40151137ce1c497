// Browser mode's WebSocket: library events to every page, and streaming calls
// (caption, ask) with their tokens and cancellation. Every frame a page can send is
// answered or dropped with a message; none can throw out of here, and a socket that
// breaks the protocol (an oversized or malformed frame) is closed, never the server.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Api } from '../api/dispatch.ts';
import { EVENT_NAMES, MAX_MESSAGE_BYTES, errorReply, isCallId, type SocketMessage } from '../api/wire.ts';

/** Streaming calls one page may have running at once; more are refused, not queued. */
const MAX_CALLS_PER_SOCKET = 16;

const text = (data: RawData): string =>
  Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export class EventSockets {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly clients = new Set<WebSocket>();
  private readonly unsubscribe: Array<() => void>;

  constructor(private readonly api: Api, private readonly log: (message: string) => void) {
    this.wss.on('error', (err) => log(`websocket server: ${err.message}`));
    this.unsubscribe = EVENT_NAMES.map((type) => api.on(type, (data) => this.broadcast({ type, data })));
  }

  /** Completes an authorised upgrade request; the socket's errors are already handled by the caller. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws));
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    for (const ws of this.clients) ws.terminate();
    this.wss.close();
  }

  private send(ws: WebSocket, message: SocketMessage): void {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify(message), (err) => {
      if (err) this.log(`websocket send: ${err.message}`);
    });
  }

  private broadcast(message: SocketMessage): void {
    for (const ws of this.clients) this.send(ws, message);
  }

  private connected(ws: WebSocket): void {
    this.clients.add(ws);
    const running = new Map<string, AbortController>();
    // ws closes the socket itself after a protocol error (e.g. 1009 for a frame over
    // maxPayload); without a listener the 'error' event would end the process.
    ws.on('error', (err) => this.log(`websocket closed: ${err.message}`));
    ws.on('close', () => {
      this.clients.delete(ws);
      for (const abort of running.values()) abort.abort();
    });
    ws.on('message', (data, isBinary) => {
      this.message(ws, running, data, isBinary).catch((err: unknown) => {
        this.log(`websocket message: ${(err as Error)?.stack ?? String(err)}`);
        ws.close(1011, 'internal error');
      });
    });
  }

  private async message(ws: WebSocket, running: Map<string, AbortController>, data: RawData, isBinary: boolean): Promise<void> {
    const refuse = (message: string) => this.send(ws, { type: 'error', data: { code: 'invalid-input', message } });
    if (isBinary) return refuse('messages are JSON text, not binary');
    let msg: unknown;
    try {
      msg = JSON.parse(text(data));
    } catch {
      return refuse('messages are JSON');
    }
    if (!isRecord(msg)) return refuse('a message is a JSON object');
    if (Object.hasOwn(msg, 'cancel')) {
      if (!isCallId(msg.cancel)) return refuse('cancel needs the id of a call');
      running.get(msg.cancel)?.abort();
      return;
    }
    const call = msg.call;
    if (!isCallId(call)) return refuse('a call needs a string id of 1 to 64 characters');
    const result = (reply: ReturnType<typeof errorReply>) => this.send(ws, { type: 'result', data: { call, ...reply } });
    if (running.has(call)) return result(errorReply('invalid-input', `call ${call} is already running`));
    if (running.size >= MAX_CALLS_PER_SOCKET) return result(errorReply('invalid-input', `at most ${MAX_CALLS_PER_SOCKET} calls may run at once`));
    const abort = new AbortController();
    running.set(call, abort);
    try {
      const reply = await this.api.reply(msg.method, msg.input, {
        signal: abort.signal,
        onToken: (piece) => this.send(ws, { type: 'token', data: { call, text: piece } }),
      });
      this.send(ws, { type: 'result', data: { call, ...reply } });
    } finally {
      running.delete(call);
    }
  }
}
