// Browser mode: the same contract as the app's IPC, over HTTP (methods) and a
// WebSocket (events and streamed answers), for headless machines and for tests.
// Bound to 127.0.0.1 by default; every request needs the random token and, from a
// browser, our own origin; files are served by photo id only, never by path.
// No request can stop the server: every handler and socket ends in a catch-all that
// answers a 4xx (or closes the socket) and logs.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { contentType, fileRequest, photoFile } from '../api/files.ts';
import { Api, isMethod } from '../api/dispatch.ts';
import { errorReply, isStreaming, ROUTES, type ErrorCode, type Reply } from '../api/wire.ts';
import type { Library } from '../library/library.ts';
import { credential, decodeSegment, parseTarget, readBody, RequestRefused, securityHeaders, tokenCookie, type Target } from './http.ts';
import { EventSockets } from './socket.ts';

export interface ServerOptions {
  library: Library;
  host?: string;
  port?: number;
  /** Built renderer files (index.html and assets); without it only the API is served. */
  rendererDir?: string;
  token?: string;
  /** Where refused requests and socket errors are reported (default: stderr). */
  log?: (message: string) => void;
}

export interface RunningServer {
  url: string;
  /** The URL to open: carries the token once; the page then keeps it in a cookie. */
  openUrl: string;
  token: string;
  close(): Promise<void>;
}

const STATUS: Record<ErrorCode, number> = {
  'invalid-input': 400, invalid: 400, 'unknown-method': 404, 'not-found': 404, 'not-a-folder': 400,
  'nothing-indexed': 409, 'not-indexed': 409, 'no-pack': 503, cancelled: 499, internal: 500,
  unauthorized: 401, forbidden: 403, network: 502,
};

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const api = new Api(options.library);
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((message: string) => console.error(`glimpse serve: ${message}`));
  const rendererDir = options.rendererDir ? path.resolve(options.rendererDir) : null;
  let origin = '';

  const send = (res: http.ServerResponse, status: number, body: string | Buffer, type = 'application/json; charset=utf-8', extra: Record<string, string> = {}) => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'Content-Type': type, ...securityHeaders(origin), ...extra });
    res.end(body);
  };
  const answer = (res: http.ServerResponse, reply: Reply, status = reply.ok ? 200 : STATUS[reply.error.code], extra: Record<string, string> = {}) =>
    send(res, status, JSON.stringify(reply), undefined, extra);
  const refuse = (res: http.ServerResponse, status: number, code: ErrorCode, message: string, extra: Record<string, string> = {}) =>
    answer(res, errorReply(code, message), status, extra);

  /** A browser always sends Origin on POST and WebSocket; it must be ours. */
  const originOk = (req: http.IncomingMessage) => req.headers.origin === undefined || req.headers.origin === origin;

  const callMethod = async (req: http.IncomingMessage, res: http.ServerResponse, encoded: string) => {
    const method = decodeSegment(encoded);
    if (method === null) return refuse(res, 400, 'invalid-input', 'the method name is not a valid percent-encoded name');
    if (!isMethod(method)) return refuse(res, 404, 'unknown-method', `unknown method ${JSON.stringify(method).slice(0, 80)}`);
    if (isStreaming(method)) return refuse(res, 404, 'unknown-method', `${method} streams: call it over the WebSocket`);
    const raw = await readBody(req);
    let input: unknown;
    try {
      input = raw.length === 0 ? {} : JSON.parse(raw);
    } catch {
      return refuse(res, 400, 'invalid-input', 'the request body is not JSON');
    }
    return answer(res, await api.reply(method, input));
  };

  const sendFile = async (res: http.ServerResponse, file: string, type: string, extra: Record<string, string>) => {
    let data: Buffer;
    try {
      data = await fs.promises.readFile(file);
    } catch {
      return refuse(res, 404, 'not-found', 'file not available');
    }
    send(res, 200, data, type, extra);
  };

  const serveStatic = async (res: http.ServerResponse, dir: string, target: Target, setCookie: Record<string, string>) => {
    const rel = target.pathname === '/' ? 'index.html' : decodeSegment(target.pathname.slice(1));
    if (rel === null) return refuse(res, 400, 'invalid-input', 'the path is not validly percent-encoded');
    const file = path.resolve(dir, rel);
    if (!file.startsWith(dir + path.sep)) return refuse(res, 404, 'not-found', 'no such file');
    const stat = await fs.promises.stat(file).catch(() => null);
    if (!stat?.isFile()) return refuse(res, 404, 'not-found', 'no such route');
    return sendFile(res, file, contentType(file), setCookie);
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const target = parseTarget(req.url);
    if (target === null) return refuse(res, 400, 'invalid-input', 'the request target must be a path like /api/status');
    if (!originOk(req)) return refuse(res, 403, 'forbidden', 'requests from other origins are refused');
    const by = credential(req, target, token);
    if (by === null) return refuse(res, 401, 'unauthorized', 'a valid token is required: open the URL printed by `npm run serve`');
    const { pathname } = target;

    if (req.method === 'POST' && pathname.startsWith(ROUTES.api)) return callMethod(req, res, pathname.slice(ROUTES.api.length));
    if (req.method === 'GET' && pathname.startsWith('/files/')) {
      const [kind = '', idText = '', ...rest] = pathname.slice('/files/'.length).split('/');
      const wanted = rest.length === 0 ? fileRequest(kind, idText) : null;
      if (!wanted) return refuse(res, 404, 'not-found', 'no such file');
      const found = await photoFile(options.library, wanted.kind, wanted.id);
      if (!found) return refuse(res, 404, 'not-found', `photo ${wanted.id} has no ${wanted.kind === 'thumb' ? 'thumbnail' : 'file present'}`);
      return sendFile(res, found.file, found.type, { 'Cache-Control': 'private, max-age=86400' });
    }
    if (req.method === 'GET' && rendererDir) {
      // The page's ?token= becomes an HttpOnly cookie; the page then drops it from the address bar.
      return serveStatic(res, rendererDir, target, by === 'query' ? { 'Set-Cookie': tokenCookie(token) } : {});
    }
    return refuse(res, 404, 'not-found', 'no such route');
  };

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof RequestRefused) return refuse(res, err.status, 'invalid-input', err.message, { Connection: 'close' });
      log(`${String(req.method).slice(0, 16)} ${String(req.url).slice(0, 200)}: ${(err as Error)?.stack ?? String(err)}`);
      // A request that got this far and still failed could not be read (a client that
      // went away mid-body, an unreadable header): a bad request, never a dead server.
      refuse(res, 400, 'invalid-input', 'the request could not be read');
    });
  });

  // Requests Node's HTTP parser refuses (a malformed request line or header, NUL bytes
  // in the target, oversized headers): answer and close that socket only.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code !== 'ECONNRESET') log(`malformed request refused: ${err.code ?? err.message}`);
    if (!socket.writable || err.code === 'ECONNRESET') return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  // Events and streaming calls share one WebSocket per page.
  const sockets = new EventSockets(api, log);
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => log(`upgrade socket: ${err.message}`));
    const deny = (status: number) => {
      if (socket.writable) socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    try {
      const target = parseTarget(req.url);
      if (target === null) return deny(400);
      if (target.pathname !== ROUTES.socket || !originOk(req) || credential(req, target, token) === null) return deny(401);
      sockets.upgrade(req, socket, head);
    } catch (err) {
      log(`upgrade: ${(err as Error)?.stack ?? String(err)}`);
      deny(400);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log(`server: ${err.message}`));
  const address = server.address() as { port: number };
  origin = `http://${host}:${address.port}`;
  return {
    url: origin,
    openUrl: `${origin}/?token=${token}`,
    token,
    close: async () => {
      sockets.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
