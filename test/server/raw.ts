// Talking to browser mode byte for byte (node:net), so a test sends exactly the
// malformed request or WebSocket frame it means to, which fetch and ws would refuse to
// produce; and the server in its own process (serve-child.ts), so a test can tell
// whether a request ended that process.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { ROOT } from '../helpers.ts';

export interface ChildServer {
  url: string;
  port: number;
  token: string;
  /** Still running (no exit, no crash). */
  alive(): boolean;
  /** The last 64 KiB of what it logged. */
  log(): string;
  stop(): Promise<void>;
}

export async function startChildServer(dir: string): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'server', 'serve-child.ts'), dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-65536); });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const first = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening: ${log}`)));
  });
  const { url, token } = JSON.parse(first) as { url: string; token: string };
  return {
    url, token, port: Number(new URL(url).port),
    alive: () => !exited && child.exitCode === null && child.signalCode === null,
    log: () => log,
    stop: async () => {
      if (exited) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await done;
    },
  };
}

export interface RawAnswer {
  /** The status code of the first response, or null when none came. */
  status: number | null;
  text: string;
  /** The server closed the connection (rather than the wait running out). */
  closed: boolean;
}

/** Whether `data` holds a whole HTTP response (by Content-Length or the last chunk). */
function complete(data: Buffer, headOnly: boolean): boolean {
  let start = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', start);
    if (end < 0) return false;
    const head = data.subarray(start, end).toString('latin1');
    // "100 Continue" and other interim answers come before the real one.
    if (/^HTTP\/1\.[01] 1\d\d/.test(head)) {
      start = end + 4;
      continue;
    }
    if (headOnly) return true;
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    if (length !== undefined) return data.length >= end + 4 + Number(length);
    if (/\r\ntransfer-encoding: *chunked/i.test(head)) return data.includes('\r\n0\r\n\r\n', end);
    return false;
  }
}

/**
 * Opens a connection, writes `bytes` exactly and collects the answer until it is whole
 * or the server closes. The connection stays open meanwhile, as a browser's does (a
 * half-closed one would have its request dropped by Node); with `abort` it is dropped
 * right after writing.
 */
export function rawRequest(port: number, bytes: string | Buffer, options: { timeoutMs?: number; abort?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    let done = false;
    // A response to HEAD has headers only, whatever its Content-Length says.
    const headOnly = Buffer.from(bytes.slice(0, 5)).toString('latin1') === 'HEAD ';
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      // The final status, after any interim 1xx answers.
      const status = [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})/g)].map((m) => m[1]).find((code) => !code?.startsWith('1'));
      resolve({ status: status === undefined ? null : Number(status), text, closed });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 5000);
    socket.on('data', (d) => {
      chunks.push(d);
      if (complete(Buffer.concat(chunks), headOnly)) finish(false);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      if (options.abort) socket.write(bytes, () => socket.destroy());
      else socket.write(bytes);
    });
  });
}

/** An HTTP/1.1 request as text, CRLF line ends. */
export function request(method: string, target: string, headers: Record<string, string> = {}, body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body.length > 0 && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** A WebSocket frame as a client would send it (masked unless told otherwise); `declaredLength` may lie. */
export function frame(opcode: number, payload: Buffer | string, options: { fin?: boolean; mask?: boolean; rsv?: number; declaredLength?: number } = {}): Buffer {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const length = options.declaredLength ?? data.length;
  const mask = options.mask ?? true;
  const head = [((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) & 0x7) << 4 | (opcode & 0x0f)];
  const maskBit = mask ? 0x80 : 0;
  let extended = Buffer.alloc(0);
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) {
    head.push(maskBit | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(length);
  } else {
    head.push(maskBit | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(BigInt(length));
  }
  if (!mask) return Buffer.concat([Buffer.from(head), extended, data]);
  const key = randomBytes(4);
  const masked = Buffer.from(data.map((b, i) => b ^ (key[i % 4] as number)));
  return Buffer.concat([Buffer.from(head), extended, key, masked]);
}

export interface RawSocket {
  socket: net.Socket;
  /** Text messages the server sent so far. */
  messages(): string[];
  /** Resolves when the server has closed the connection; false if it had not within `ms`. */
  closed(ms: number): Promise<boolean>;
}

/** A WebSocket connection opened by hand (handshake with the token), to write raw frames on. */
export function rawWebSocket(port: number, token: string): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    let isClosed = false;
    const closeWaiters: Array<() => void> = [];
    socket.on('error', () => undefined);
    socket.on('close', () => {
      isClosed = true;
      closeWaiters.splice(0).forEach((w) => w());
      if (!upgraded) reject(new Error(`no upgrade: ${buffer.toString('latin1').slice(0, 200)}`));
    });
    socket.on('data', (d) => {
      buffer = Buffer.concat([buffer, d]);
      if (upgraded) return;
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${head}`));
      upgraded = true;
      buffer = buffer.subarray(end + 4);
      resolve({
        socket,
        messages: () => serverTexts(buffer),
        closed: (ms) => isClosed ? Promise.resolve(true) : new Promise((done) => {
          const timer = setTimeout(() => done(false), ms);
          closeWaiters.push(() => { clearTimeout(timer); done(true); });
        }),
      });
    });
    socket.on('connect', () => socket.write(request('GET', `/ws?token=${token}`, {
      Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    })));
  });
}

/** The complete, unfragmented text frames in what a server sent (servers do not mask). */
function serverTexts(buffer: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  while (at + 2 <= buffer.length) {
    const opcode = (buffer[at] as number) & 0x0f;
    let length = (buffer[at + 1] as number) & 0x7f;
    let start = at + 2;
    if (length === 126) {
      if (start + 2 > buffer.length) break;
      length = buffer.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > buffer.length) break;
      length = Number(buffer.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > buffer.length) break;
    if (opcode === 1) out.push(buffer.subarray(start, start + length).toString('utf8'));
    at = start + length;
  }
  return out;
}
