// Browser mode: the same contract as the app's IPC, over HTTP (methods) and a
// WebSocket (events and streamed answers), for headless machines and for tests.
// Bound to 127.0.0.1 by default; every request needs the random token and, from a
// browser, our own origin; files are served by photo id only, never by path.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, STREAMING, type ApiErrorCode } from '../api/contract.ts';
import { Api, isMethod } from '../api/dispatch.ts';
import type { Library } from '../library/library.ts';

export interface ServerOptions {
  library: Library;
  host?: string;
  port?: number;
  /** Built renderer files (index.html and assets); without it only the API is served. */
  rendererDir?: string;
  token?: string;
}

export interface RunningServer {
  url: string;
  /** The URL to open: carries the token once; the page then keeps it in a cookie. */
  openUrl: string;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'glimpse_token';
const STATUS: Partial<Record<ApiErrorCode, number>> = {
  'invalid-input': 400, invalid: 400, 'unknown-method': 404, 'not-found': 404, 'not-a-folder': 400,
  'nothing-indexed': 409, 'not-indexed': 409, 'no-pack': 503, cancelled: 499, internal: 500,
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.webp': 'image/webp', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.json': 'application/json', '.ico': 'image/x-icon', '.woff2': 'font/woff2',
};

function securityHeaders(origin: string): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self' ${origin.replace('http', 'ws')}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  };
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: http.IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE) return v;
  }
  return undefined;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const api = new Api(options.library);
  const host = options.host ?? '127.0.0.1';
  let origin = '';

  const send = (res: http.ServerResponse, status: number, body: string | Buffer, type = 'application/json; charset=utf-8', extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': type, ...securityHeaders(origin), ...extra });
    res.end(body);
  };
  const fail = (res: http.ServerResponse, status: number, code: ApiErrorCode | 'unauthorized' | 'forbidden', message: string) =>
    send(res, status, JSON.stringify({ ok: false, error: { code, message } }));

  /** A browser always sends Origin on POST and WebSocket; it must be ours. */
  const originOk = (req: http.IncomingMessage) => req.headers.origin === undefined || req.headers.origin === origin;
  const authorised = (req: http.IncomingMessage, url: URL) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    return sameToken(bearer, token) || sameToken(cookieToken(req), token) || sameToken(url.searchParams.get('token') ?? undefined, token);
  };

  const serveFile = (res: http.ServerResponse, file: string, cacheable: boolean) => {
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    fs.readFile(file, (err, data) => {
      if (err) return fail(res, 404, 'not-found', 'file not available');
      send(res, 200, data, type, cacheable ? { 'Cache-Control': 'private, max-age=86400' } : {});
    });
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (!originOk(req)) return fail(res, 403, 'forbidden', 'requests from other origins are refused');
    if (!authorised(req, url)) return fail(res, 401, 'unauthorized', 'a valid token is required: open the URL printed by `npm run serve`');
    const setCookie = url.searchParams.has('token') ? { 'Set-Cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/` } : {};

    if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
      const method = decodeURIComponent(url.pathname.slice(5));
      if (!isMethod(method) || STREAMING.has(method)) {
        return fail(res, 404, 'unknown-method', isMethod(method) ? `${method} streams: call it over the WebSocket` : `unknown method ${JSON.stringify(method).slice(0, 80)}`);
      }
      let raw = '';
      for await (const chunk of req) {
        raw += chunk;
        if (raw.length > 64 * 1024) return fail(res, 413, 'invalid-input', 'request body too large');
      }
      let input: unknown;
      try {
        input = raw.length === 0 ? {} : JSON.parse(raw);
      } catch {
        return fail(res, 400, 'invalid-input', 'the request body is not JSON');
      }
      try {
        const result = await api.call(method, input);
        return send(res, 200, JSON.stringify({ ok: true, result }));
      } catch (err) {
        const e = err instanceof ApiError ? err : new ApiError('internal', String(err));
        return fail(res, STATUS[e.code] ?? 500, e.code, e.message);
      }
    }

    if (req.method === 'GET' && /^\/files\/(thumb|photo)\/\d+$/.test(url.pathname)) {
      const [, , kind, idText] = url.pathname.split('/');
      const id = Number(idText);
      try {
        const file = kind === 'thumb' ? await options.library.thumbnail(id) : options.library.photo(id).paths[0];
        if (!file) return fail(res, 404, 'not-found', `photo ${id} has no file present`);
        return serveFile(res, file, true);
      } catch (err) {
        return fail(res, 404, 'not-found', (err as Error).message);
      }
    }

    if (req.method === 'GET' && options.rendererDir) {
      const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
      const file = path.resolve(options.rendererDir, rel);
      if (!file.startsWith(path.resolve(options.rendererDir) + path.sep)) return fail(res, 404, 'not-found', 'no such file');
      const exists = fs.statSync(file, { throwIfNoEntry: false })?.isFile();
      if (exists) {
        if (Object.keys(setCookie).length > 0) {
          res.setHeader('Set-Cookie', setCookie['Set-Cookie'] as string);
        }
        return serveFile(res, file, false);
      }
    }
    return fail(res, 404, 'not-found', 'no such route');
  });

  // Events and streaming calls share one WebSocket per page.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname !== '/ws' || !originOk(req) || !authorised(req, url)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const clients = new Set<WebSocket>();
  const broadcast = (type: string, data: unknown) => {
    const text = JSON.stringify({ type, data });
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(text);
  };
  const onProgress = (p: unknown) => broadcast('progress', p);
  const onIdle = (p: unknown) => broadcast('idle', p);
  const onChanged = () => broadcast('changed', {});
  options.library.on('progress', onProgress);
  options.library.on('idle', onIdle);
  options.library.on('changed', onChanged);

  wss.on('connection', (ws: WebSocket) => {
    clients.add(ws);
    const running = new Map<string, AbortController>();
    ws.on('close', () => {
      clients.delete(ws);
      for (const c of running.values()) c.abort();
    });
    ws.on('message', async (data) => {
      let msg: { call?: unknown; method?: unknown; input?: unknown; cancel?: unknown };
      try {
        msg = JSON.parse(String(data));
      } catch {
        return ws.send(JSON.stringify({ type: 'error', data: { code: 'invalid-input', message: 'messages are JSON' } }));
      }
      if (typeof msg.cancel === 'string') {
        running.get(msg.cancel)?.abort();
        return;
      }
      const call = typeof msg.call === 'string' && msg.call.length <= 64 ? msg.call : null;
      if (call === null) return ws.send(JSON.stringify({ type: 'error', data: { code: 'invalid-input', message: 'a call needs a string id' } }));
      const abort = new AbortController();
      running.set(call, abort);
      try {
        const result = await api.call(String(msg.method), msg.input, { signal: abort.signal, onToken: (text) => ws.send(JSON.stringify({ type: 'token', data: { call, text } })) });
        ws.send(JSON.stringify({ type: 'result', data: { call, ok: true, result } }));
      } catch (err) {
        const e = err instanceof ApiError ? err : new ApiError('internal', String(err));
        ws.send(JSON.stringify({ type: 'result', data: { call, ok: false, error: { code: e.code, message: e.message } } }));
      } finally {
        running.delete(call);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address() as { port: number };
  origin = `http://${host}:${address.port}`;
  return {
    url: origin,
    openUrl: `${origin}/?token=${token}`,
    token,
    close: async () => {
      options.library.off('progress', onProgress);
      options.library.off('idle', onIdle);
      options.library.off('changed', onChanged);
      for (const ws of clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
