// Bounded, seeded fuzzing of browser mode over loopback (fast-check): a few thousand
// generated requests (request lines, targets, escapes, headers, cookies, bodies) and
// WebSocket frames (opcodes, flags, lengths that lie, JSON and noise), sent byte for
// byte to a server in its own process. No answer may be a 5xx, and afterwards the
// process must still be up and answer a good request and a good WebSocket call.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { tempDir } from '../helpers.ts';
import { frame, rawRequest, rawWebSocket, request, startChildServer, type ChildServer } from './raw.ts';

const SEED = 0x611a;
const root = tempDir('fuzz');
let server: ChildServer;
before(async () => {
  server = await startChildServer(root);
});
after(async () => server?.stop());

// Method names that cannot change what is on disk (addFolder with a generated "/" could scan the machine).
const METHODS = ['status', 'search', 'photo', 'photoAt', 'caption', 'ask', 'history', 'errors', 'timeline', 'packs', 'listFolders', 'removeFolder', 'setPack', 'pauseIndexing', 'resumeIndexing', 'addSamples', 'engineInfo'];
const SEGMENTS = ['api', 'files', 'thumb', 'photo', 'ws', 'index.html', 'assets', 'app.js', '..', '.', '', '%', '%Z', '%ZZ', '%E0%A4%A', '%00', '%0a', '%2F', '%2e%2e', '%C0%AF', '%FF', '%25', '//a:99999', 'a:99999', '@', '\\', ';', '~', '1', '0', '-1', '99999999999999999999', ...METHODS];

const bytes = (unit: 'binary-ascii' | 'grapheme-ascii', maxLength: number) => fc.string({ unit, maxLength });
const segment = fc.oneof(
  { arbitrary: fc.constantFrom(...SEGMENTS), weight: 6 },
  { arbitrary: bytes('grapheme-ascii', 10), weight: 2 },
  { arbitrary: bytes('binary-ascii', 6), weight: 1 },
);
const target = fc.tuple(
  fc.constantFrom('/', '/', '/', '//', '', 'http://127.0.0.1/', '*', '/api/', '/files/photo/'),
  fc.array(segment, { maxLength: 5 }),
  fc.option(fc.oneof(fc.constant('token=TOKEN'), bytes('grapheme-ascii', 20), fc.constant('token=%E0%A4%A&token=TOKEN'))),
).map(([prefix, parts, query]) => `${prefix}${parts.join('/')}${query === null ? '' : `?${query}`}`);

const headerName = fc.oneof(fc.constantFrom('Cookie', 'Origin', 'Authorization', 'Content-Type', 'Upgrade', 'Connection', 'Expect', 'Host', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'X-Forwarded-For'), bytes('binary-ascii', 12));
const headerValue = fc.oneof(fc.constantFrom('websocket', 'Upgrade', '13', 'null', 'http://evil.example', 'glimpse_token', 'glimpse_token=', '100-continue', 'application/json'), bytes('binary-ascii', 40));
const body = fc.oneof(
  { arbitrary: fc.constant(''), weight: 3 },
  { arbitrary: fc.constant('{}'), weight: 2 },
  { arbitrary: fc.json({ maxDepth: 3 }), weight: 3 },
  { arbitrary: fc.record({ text: fc.string({ maxLength: 30 }), id: fc.integer(), from: fc.constantFrom('2024-13-45', '2024-02-30', '0000-00-00', '2024-05-31'), path: fc.constantFrom('relative', '/no/such/file.jpg', '/tmp/\u0000') }, { requiredKeys: [] }).map((o) => JSON.stringify(o)), weight: 3 },
  { arbitrary: bytes('binary-ascii', 80), weight: 2 },
);

const wild = fc.record({
  method: fc.oneof({ arbitrary: fc.constantFrom('GET', 'POST', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'DELETE'), weight: 8 }, { arbitrary: bytes('binary-ascii', 8), weight: 1 }),
  target,
  version: fc.oneof({ arbitrary: fc.constant('HTTP/1.1'), weight: 12 }, { arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 x', ''), weight: 1 }),
  auth: fc.constantFrom('bearer', 'bearer', 'cookie', 'none', 'wrong', 'cookie-junk'),
  origin: fc.constantFrom('none', 'none', 'own', 'other'),
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }),
  body,
  length: fc.constantFrom('exact', 'exact', 'exact', 'exact', 'none', 'shorter', 'junk', 'chunked', 'chunked-bad'),
  eol: fc.oneof({ arbitrary: fc.constant('\r\n'), weight: 12 }, { arbitrary: fc.constant('\n'), weight: 1 }),
});
// Well formed but for the path, the body or the method's input, so the fuzz reaches the routes and the contract.
const routed = fc.record({
  method: fc.constantFrom('GET', 'POST'),
  target: fc.tuple(fc.constantFrom('/api/', '/files/thumb/', '/files/photo/', '/', '/assets/', '/ws'), fc.array(segment, { maxLength: 2 }))
    .map(([prefix, parts]) => `${prefix}${parts.join('/')}`),
  version: fc.constant('HTTP/1.1'),
  auth: fc.constantFrom('bearer', 'cookie'),
  origin: fc.constantFrom('none', 'own'),
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 1 }),
  body,
  length: fc.constant('exact'),
  eol: fc.constant('\r\n'),
});
const httpRequest = fc.oneof(wild, routed);
type HttpSpec = typeof httpRequest extends fc.Arbitrary<infer T> ? T : never;

function render(spec: HttpSpec): Buffer {
  const lines = [`${spec.method} ${spec.target.replaceAll('TOKEN', server.token)} ${spec.version}`.trimEnd(), 'Host: 127.0.0.1'];
  if (spec.auth === 'bearer') lines.push(`Authorization: Bearer ${server.token}`);
  if (spec.auth === 'wrong') lines.push(`Authorization: Bearer ${server.token.slice(1)}x`);
  if (spec.auth === 'cookie') lines.push(`Cookie: a=b; glimpse_token=${server.token}`);
  if (spec.auth === 'cookie-junk') lines.push(`Cookie: ;=;glimpse_token;glimpse_token=%ZZ; =${server.token}`);
  if (spec.origin === 'own') lines.push(`Origin: ${server.url}`);
  if (spec.origin === 'other') lines.push('Origin: http://evil.example');
  for (const [name, value] of spec.headers) lines.push(`${name}: ${value}`);
  const payload = Buffer.from(spec.body, 'latin1');
  let rendered = payload;
  if (spec.length === 'exact') lines.push(`Content-Length: ${payload.length}`);
  if (spec.length === 'shorter') lines.push(`Content-Length: ${Math.max(0, payload.length - 3)}`);
  if (spec.length === 'junk') lines.push('Content-Length: 12abc');
  if (spec.length.startsWith('chunked')) {
    lines.push('Transfer-Encoding: chunked');
    const size = spec.length === 'chunked' ? payload.length.toString(16) : 'zz';
    rendered = Buffer.concat([Buffer.from(`${size}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')]);
  }
  return Buffer.concat([Buffer.from(`${lines.join(spec.eol)}${spec.eol}${spec.eol}`, 'latin1'), rendered]);
}

const callMessage = fc.record({
  call: fc.oneof(fc.constantFrom('c1', 'c2', ''), fc.string({ maxLength: 70 }), fc.integer()),
  method: fc.oneof(fc.constantFrom(...METHODS, '__proto__', 'constructor'), fc.string({ maxLength: 10 })),
  input: fc.oneof(fc.constant({}), fc.record({ id: fc.integer(), question: fc.string({ maxLength: 20 }), budget: fc.integer({ min: -2, max: 20 }), text: fc.string({ maxLength: 20 }) }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 2 })),
}, { requiredKeys: [] }).map((m) => JSON.stringify(m));
const payload = fc.oneof(
  { arbitrary: callMessage.map((s) => Buffer.from(s)), weight: 5 },
  { arbitrary: fc.string({ maxLength: 10 }).map((c) => Buffer.from(JSON.stringify({ cancel: c }))), weight: 1 },
  { arbitrary: fc.json({ maxDepth: 2 }).map((s) => Buffer.from(s)), weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), weight: 2 },
  { arbitrary: fc.constant(Buffer.alloc(70 * 1024, 0x41)), weight: 1 },
);
const wsFrame = fc.record({
  opcode: fc.oneof({ arbitrary: fc.constant(1), weight: 8 }, { arbitrary: fc.constantFrom(0, 2, 8, 9, 10), weight: 2 }, { arbitrary: fc.integer({ min: 0, max: 15 }), weight: 1 }),
  payload,
  fin: fc.oneof({ arbitrary: fc.constant(true), weight: 9 }, { arbitrary: fc.constant(false), weight: 1 }),
  mask: fc.oneof({ arbitrary: fc.constant(true), weight: 15 }, { arbitrary: fc.constant(false), weight: 1 }),
  rsv: fc.oneof({ arbitrary: fc.constant(0), weight: 15 }, { arbitrary: fc.integer({ min: 1, max: 7 }), weight: 1 }),
  lie: fc.oneof({ arbitrary: fc.constant(null), weight: 20 }, { arbitrary: fc.constantFrom(0, 1, 125, 126, 65535, 65536, 2 ** 40), weight: 1 }),
});

const tally = { waited: 0, requests: 0, answered: 0, statuses: new Map<number, number>(), sockets: 0, closedByServer: 0 };

test('thousands of malformed requests: each gets a 4xx, a good answer, or no answer; never a 5xx or a dead server', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(httpRequest, { minLength: 20, maxLength: 20 }), async (specs) => {
    const answers = await Promise.all(specs.map((spec) => rawRequest(server.port, render(spec), { timeoutMs: 1000 })));
    for (const [i, answer] of answers.entries()) {
      tally.requests++;
      if (!answer.closed && answer.status === null) tally.waited++;
      if (answer.status === null) continue;
      tally.answered++;
      tally.statuses.set(answer.status, (tally.statuses.get(answer.status) ?? 0) + 1);
      assert.ok(answer.status < 500, `${answer.status} for ${JSON.stringify(render(specs[i]!).toString('latin1').slice(0, 300))}:\n${answer.text.slice(0, 400)}`);
    }
    assert.ok(server.alive(), `the server died:\n${server.log().slice(-2000)}`);
  }), { seed: SEED, numRuns: 100, endOnFailure: true });
  t.diagnostic(`${tally.requests} requests, ${tally.answered} answered (${[...tally.statuses].map(([k, v]) => `${k}: ${v}`).join(', ')}), ${tally.waited} left waiting for more bytes`);
  // The fuzz reached the router, not only Node's parser: most requests were answered, with several kinds of answer.
  assert.ok(tally.answered > tally.requests * 0.8, `${tally.answered} of ${tally.requests} answered`);
  for (const status of [200, 400, 401, 403, 404]) assert.ok((tally.statuses.get(status) ?? 0) > 0, `no ${status} among ${[...tally.statuses.keys()]}`);
});

test('a thousand malformed WebSocket conversations close or answer that socket only', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(fc.array(wsFrame, { minLength: 1, maxLength: 4 }), { minLength: 12, maxLength: 12 }), async (conversations) => {
    await Promise.all(conversations.map(async (frames) => {
      const ws = await rawWebSocket(server.port, server.token);
      tally.sockets++;
      for (const f of frames) ws.socket.write(frame(f.opcode, f.payload, { fin: f.fin, mask: f.mask, rsv: f.rsv, ...(f.lie === null ? {} : { declaredLength: f.lie }) }));
      ws.socket.write(frame(8, Buffer.from([0x03, 0xe8])));
      if (await ws.closed(150)) tally.closedByServer++;
      ws.socket.destroy();
    }));
    assert.ok(server.alive(), `the server died:\n${server.log().slice(-2000)}`);
  }), { seed: SEED, numRuns: 84, endOnFailure: true });
  t.diagnostic(`${tally.sockets} WebSocket conversations, ${tally.closedByServer} closed by the server`);
  assert.ok(tally.closedByServer > tally.sockets * 0.3, `${tally.closedByServer} of ${tally.sockets} closed by the server`);
});

test('afterwards the same process answers a good request and a good WebSocket call', async () => {
  assert.ok(server.alive());
  const ok = await rawRequest(server.port, request('POST', '/api/status', { Authorization: `Bearer ${server.token}` }, '{}'));
  assert.equal(ok.status, 200, ok.text);
  const ws = await rawWebSocket(server.port, server.token);
  ws.socket.write(frame(1, JSON.stringify({ call: 'last', method: 'timeline', input: {} })));
  for (let i = 0; i < 100 && ws.messages().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(JSON.parse(ws.messages()[0] ?? 'null'), { type: 'result', data: { call: 'last', ok: true, result: [] } });
  ws.socket.destroy();
});
