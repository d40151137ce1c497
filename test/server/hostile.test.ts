// Browser mode under hostile requests: each one is answered with a 4xx (or its socket
// closed) and the server process stays up. The reported crashes first, byte for byte
// as sent (node:net), then the rest of their class: malformed request lines, targets,
// percent-escapes, headers, cookies, paths with NUL bytes, bodies and WebSocket frames.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { tempDir } from '../helpers.ts';
import { frame, rawRequest, rawWebSocket, request, startChildServer, type ChildServer } from './raw.ts';

const root = tempDir('hostile');
let server: ChildServer;
before(async () => {
  server = await startChildServer(root);
});
after(async () => server?.stop());

const bearer = () => ({ Authorization: `Bearer ${server.token}` });

/** The server is up and still answers a good request. (One that died is started again, so each test stands alone.) */
async function stillServing(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  if (!server.alive()) {
    const log = server.log();
    server = await startChildServer(root);
    assert.fail(`the server process ended:\n${log.slice(-1500)}`);
  }
  const ok = await rawRequest(server.port, request('POST', '/api/status', { ...bearer(), 'Content-Type': 'application/json' }, '{}'));
  assert.equal(ok.status, 200, ok.text);
  assert.match(ok.text, /"ok":true/);
}
afterEach(stillServing);

async function expect4xx(bytes: string | Buffer, expected?: number): Promise<void> {
  const answer = await rawRequest(server.port, bytes);
  assert.ok(answer.status !== null, `no answer to ${JSON.stringify(bytes.toString().slice(0, 120))}`);
  if (expected !== undefined) assert.equal(answer.status, expected, answer.text.slice(0, 300));
  else assert.ok(answer.status >= 400 && answer.status < 500, `${answer.status} for ${JSON.stringify(bytes.toString().slice(0, 120))}`);
}

// The four reported crashes.
test('reported: a target that parses as a host ("//a:99999/") without a token', async () => {
  await expect4xx('GET //a:99999/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 401);
});

test('reported: the same target on a WebSocket upgrade', async () => {
  const answer = await rawRequest(server.port, request('GET', '//a:99999/', { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' }));
  assert.equal(answer.status, 401, answer.text);
});

test('reported: malformed percent-escapes in a page path and in a method name, with the token', async () => {
  await expect4xx(request('GET', '/%ZZ', bearer()), 400);
  await expect4xx(request('POST', '/api/%E0%A4%A', bearer(), '{}'), 400);
});

test('reported: a WebSocket message over the 64 KiB limit closes that socket only', async () => {
  const ws = await rawWebSocket(server.port, server.token);
  ws.socket.write(frame(1, 'x'.repeat(70 * 1024)));
  assert.equal(await ws.closed(5000), true, 'the oversized message closes the socket');
});

// The rest of the class.
const MALFORMED: Array<[string, () => string | Buffer, number?]> = [
  ['a target that parses as a host, with the token', () => request('GET', '//a:99999/', bearer()), 404],
  ['a host-like target with credentials', () => request('GET', '//user:pass@[::1:99999/x', bearer())],
  ['an absolute-form target', () => request('GET', 'http://127.0.0.1:1/api/status', bearer()), 400],
  ['an asterisk target', () => request('OPTIONS', '*', bearer()), 400],
  ['a bad escape in a file route', () => request('GET', '/files/photo/%', bearer())],
  ['an overlong UTF-8 escape', () => request('GET', '/%C0%AF', bearer()), 400],
  ['an escaped NUL in a page path', () => request('GET', '/index.html%00.js', bearer()), 400],
  ['an escaped NUL in a method name', () => request('POST', '/api/status%00', bearer(), '{}'), 400],
  ['an escaped newline in a page path', () => request('GET', '/a%0D%0Ab', bearer()), 400],
  ['a raw NUL byte in the request line', () => `GET /ind\u0000ex.html HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\n\r\n`, 400],
  ['a path below a file', () => request('GET', '/index.html/x', bearer()), 404],
  ['an escaped path escape', () => request('GET', '/..%2F..%2F..%2Fetc%2Fpasswd', bearer()), 404],
  ['a 300-character file name', () => request('GET', `/${'a'.repeat(300)}`, bearer()), 404],
  ['a photo id beyond any integer', () => request('GET', '/files/photo/99999999999999999999999', bearer()), 404],
  ['a header line without a colon', () => `GET / HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n`, 400],
  ['a control character in a header value', () => `GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n`, 400],
  ['a space before the colon', () => `GET / HTTP/1.1\r\nHost : x\r\n\r\n`, 400],
  ['headers of 100 KiB', () => `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(100 * 1024)}\r\n\r\n`, 431],
  ['an unknown HTTP version', () => `GET / HTTP/7.3\r\nHost: x\r\n\r\n`],
  ['a request line of one word', () => 'HELLO\r\n\r\n', 400],
  ['binary noise', () => Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]), 400],
  ['a cookie without a value', () => request('GET', '/', { Cookie: 'glimpse_token' }), 401],
  ['a cookie of separators', () => request('GET', '/', { Cookie: ';;=;==; =glimpse_token=' }), 401],
  ['a cookie with escapes', () => request('GET', '/', { Cookie: `glimpse_token=%ZZ${server.token}` }), 401],
  ['an Authorization header with no token', () => request('GET', '/', { Authorization: 'Bearer ' }), 401],
  ['a token with an invalid escape in the query', () => request('GET', '/?token=%E0%A4%A', {}), 401],
  ['an Origin that is not a URL', () => request('POST', '/api/status', { ...bearer(), Origin: '::::' }, '{}'), 403],
  ['a Content-Length that is not a number', () => `POST /api/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: lots\r\n\r\n{}`, 400],
  ['two different Content-Lengths', () => `POST /api/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, 400],
  ['a malformed chunked body', () => `POST /api/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, 400],
  ['a body that is not UTF-8', () => Buffer.concat([Buffer.from(request('POST', '/api/search', { ...bearer(), 'Content-Length': '4' })), Buffer.from([0xff, 0xfe, 0x7b, 0x7d])]), 400],
  ['a body over 64 KiB', () => request('POST', '/api/status', bearer(), `"${'x'.repeat(70 * 1024)}"`), 413],
  ['a body that is JSON null', () => request('POST', '/api/search', bearer(), 'null'), 400],
  ['a search from an impossible date', () => request('POST', '/api/search', bearer(), '{"text":"a red star","from":"2024-13-45"}'), 400],
  ['a relative folder', () => request('POST', '/api/addFolder', bearer(), '{"path":"photos"}'), 400],
  ['a relative photo path', () => request('POST', '/api/photoAt', bearer(), '{"path":"../photo.jpg"}'), 400],
  ['a folder path with a NUL byte', () => request('POST', '/api/addFolder', bearer(), '{"path":"/tmp/\\u0000x"}'), 400],
];

for (const [name, bytes, status] of MALFORMED) {
  test(`refused with a 4xx: ${name}`, async () => expect4xx(bytes(), status));
}

test('a client that goes away in the middle of a body', async () => {
  const answer = await rawRequest(server.port, `POST /api/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 1000\r\n\r\n{"a":`, { abort: true });
  assert.equal(answer.status, null);
});

test('the token comes back as an HttpOnly cookie only with the page itself', async () => {
  const page = await rawRequest(server.port, request('GET', `/?token=${server.token}`));
  assert.equal(page.status, 200);
  assert.match(page.text, /Set-Cookie: glimpse_token=[^;]+; HttpOnly; SameSite=Strict/i);
  const api = await rawRequest(server.port, request('POST', '/api/status', bearer(), '{}'));
  assert.doesNotMatch(api.text, /Set-Cookie/i);
});

const FRAMES: Array<[string, () => Buffer[]]> = [
  ['JSON null', () => [frame(1, 'null')]],
  ['a JSON array', () => [frame(1, '[1,2]')]],
  ['a JSON string', () => [frame(1, '"ask"')]],
  ['a call id that is a number', () => [frame(1, '{"call":5,"method":"ask","input":{}}')]],
  ['a call id of 1,000 characters', () => [frame(1, JSON.stringify({ call: 'c'.repeat(1000), method: 'ask', input: {} }))]],
  ['a cancel of an object', () => [frame(1, '{"cancel":{"toString":1}}')]],
  ['an unknown method with a prototype name', () => [frame(1, '{"call":"c1","method":"__proto__","input":null}')]],
  ['a binary frame', () => [frame(2, Buffer.from([0, 1, 2, 255]))]],
  ['text that is not UTF-8', () => [frame(1, Buffer.from([0xff, 0xfe, 0xfd]))]],
  ['an unmasked client frame', () => [frame(1, '{}', { mask: false })]],
  ['reserved bits set', () => [frame(1, '{}', { rsv: 7 })]],
  ['a reserved opcode', () => [frame(0x3, 'x')]],
  ['a continuation with nothing to continue', () => [frame(0, 'x')]],
  ['a fragmented control frame', () => [frame(9, 'ping', { fin: false })]],
  ['a length that claims 2^53 bytes', () => [frame(1, 'x', { declaredLength: 2 ** 53 })]],
  ['a message split into fragments over the limit', () => [frame(1, 'x'.repeat(40 * 1024), { fin: false }), frame(0, 'y'.repeat(40 * 1024))]],
];

for (const [name, frames] of FRAMES) {
  test(`WebSocket: ${name} is answered or closes that socket only`, async () => {
    const ws = await rawWebSocket(server.port, server.token);
    for (const f of frames()) ws.socket.write(f);
    // Either the server closes the socket, or it says why it refused the message.
    const refusal = () => ws.messages().map((m) => JSON.parse(m)).find((m) => m.type === 'error' || (m.type === 'result' && m.data.ok === false));
    let closed = false;
    for (let waited = 0; waited < 5000 && !closed && !refusal(); waited += 100) closed = await ws.closed(100);
    assert.ok(closed || refusal(), `neither closed nor refused: ${JSON.stringify(ws.messages())}`);
    ws.socket.destroy();
  });
}
