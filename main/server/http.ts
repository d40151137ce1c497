// Reading what a browser-mode request says without trusting any of it: the request
// target, percent-escapes, the token (header, cookie or query) and the body. Each
// reader returns null (or throws RequestRefused) for input it cannot take, so the
// router answers a 4xx instead of letting a URIError or TypeError escape.
import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { MAX_MESSAGE_BYTES, TOKEN_COOKIE, TOKEN_PARAM } from '../api/wire.ts';

/** A request the server will not take, with the status to answer it with. */
export class RequestRefused extends Error {
  constructor(readonly status: 400 | 404 | 413, message: string) {
    super(message);
    this.name = 'RequestRefused';
  }
}

export interface Target {
  /** Still percent-encoded, as sent. */
  pathname: string;
  params: URLSearchParams;
}

/**
 * The path and query of an origin-form request target ("/path?query"). Anything else
 * (absolute-form, "*", or a target a URL parser refuses) is null. The target is parsed
 * beneath a fixed authority so that "//host:port/..." stays a path rather than a host.
 */
export function parseTarget(raw: string | undefined): Target | null {
  if (typeof raw !== 'string' || !raw.startsWith('/')) return null;
  try {
    const url = new URL(`http://glimpse.invalid${raw}`);
    return { pathname: url.pathname, params: url.searchParams };
  } catch {
    return null;
  }
}

// C0 controls, DEL and C1 controls: never part of a route or a file name we serve.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A percent-encoded path segment as text, or null when its escapes are malformed or it decodes to control characters. */
export function decodeSegment(encoded: string): string | null {
  let text: string;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    return null;
  }
  return CONTROL.test(text) ? null : text;
}

export function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Where the request's token came from, or null when it carries no valid one. */
export function credential(req: http.IncomingMessage, target: Target, token: string): 'header' | 'cookie' | 'query' | null {
  const authorization = req.headers.authorization;
  const bearer = typeof authorization === 'string' ? /^Bearer (.+)$/.exec(authorization)?.[1] : undefined;
  if (sameToken(bearer, token)) return 'header';
  if (sameToken(cookieValue(req.headers.cookie, TOKEN_COOKIE), token)) return 'cookie';
  if (sameToken(target.params.get(TOKEN_PARAM), token)) return 'query';
  return null;
}

export const tokenCookie = (token: string) => `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;

/** The request body, whole, at most MAX_MESSAGE_BYTES. Rejects with RequestRefused(413) beyond that. */
export async function readBody(req: http.IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_MESSAGE_BYTES) throw new RequestRefused(413, 'request body too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_MESSAGE_BYTES) throw new RequestRefused(413, 'request body too large');
    chunks.push(buffer);
  }
  // Decoded once, whole: a character split across two chunks stays one character.
  return Buffer.concat(chunks).toString('utf8');
}

export function securityHeaders(origin: string): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self' ${origin.replace('http', 'ws')}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  };
}
