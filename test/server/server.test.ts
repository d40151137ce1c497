// Browser mode: token and origin enforced, the contract over HTTP and WebSocket,
// files by photo id only.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { Library } from '../../main/library/library.ts';
import { startServer, type RunningServer } from '../../main/server/server.ts';
import { tempDir } from '../helpers.ts';
import { openIndexedLibrary } from '../indexed-library.ts';

const root = tempDir('server');
let library: Library;
let server: RunningServer;
let photoId: number;

before(async () => {
  ({ library, photoId } = await openIndexedLibrary(root, { count: 3, seed: 8 }));
  server = await startServer({ library });
});
after(async () => {
  await server?.close();
  await library?.close();
});

const auth = () => ({ Authorization: `Bearer ${server.token}` });
const post = (method: string, body: unknown, headers: Record<string, string> = auth()) =>
  fetch(`${server.url}/api/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

test('binds to 127.0.0.1 and prints a URL with the token', () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(server.openUrl, `${server.url}/?token=${server.token}`);
  assert.ok(server.token.length >= 32);
});

test('requests without the token, or with a wrong one, are refused', async () => {
  const none = await post('status', {}, {});
  assert.equal(none.status, 401);
  assert.equal((await none.json()).error.code, 'unauthorized');
  assert.equal((await post('status', {}, { Authorization: 'Bearer nope' })).status, 401);
  assert.equal((await fetch(`${server.url}/files/thumb/${photoId}`)).status, 401);
});

test('requests from another origin are refused, even with the token', async () => {
  const r = await post('status', {}, { ...auth(), Origin: 'http://evil.example' });
  assert.equal(r.status, 403);
  const same = await post('status', {}, { ...auth(), Origin: server.url });
  assert.equal(same.status, 200);
});

test('the contract over HTTP: results, and typed errors for bad input', async () => {
  const status = await (await post('status', {})).json();
  assert.equal(status.ok, true);
  assert.equal(status.result.counts.indexed, 3);
  const bad = await post('search', { text: '' });
  assert.equal(bad.status, 400);
  assert.deepEqual((await bad.json()).error.code, 'invalid-input');
  assert.equal((await post('nope', {})).status, 404);
  const notJson = await fetch(`${server.url}/api/status`, { method: 'POST', headers: auth(), body: '{' });
  assert.equal(notJson.status, 400);
  const hits = await (await post('search', { text: 'a red circle', limit: 2 })).json();
  assert.equal(hits.result.hits.length, 2);
  const headers = (await post('status', {})).headers;
  assert.match(headers.get('content-security-policy') ?? '', /default-src 'self'/);
});

test('files are served by photo id only', async () => {
  const thumb = await fetch(`${server.url}/files/thumb/${photoId}`, { headers: auth() });
  assert.equal(thumb.status, 200);
  assert.equal(thumb.headers.get('content-type'), 'image/webp');
  const photo = await fetch(`${server.url}/files/photo/${photoId}`, { headers: auth() });
  assert.equal(photo.headers.get('content-type'), 'image/jpeg');
  assert.equal((await fetch(`${server.url}/files/photo/99999`, { headers: auth() })).status, 404);
  for (const probe of ['/files/photo/..%2F..%2Fetc%2Fpasswd', '/files/../../etc/passwd', '/etc/passwd', `/files/photo/${photoId}?path=/etc/passwd`]) {
    const r = await fetch(`${server.url}${probe}`, { headers: auth() });
    const body = await r.text();
    assert.ok(!body.includes('root:'), `${probe} leaked a file`);
  }
});

test('the WebSocket needs the token, streams answers and carries events', async () => {
  await assert.rejects(new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
    ws.on('open', resolve);
    ws.on('error', reject);
  }));
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?token=${server.token}`);
  await new Promise((resolve) => ws.on('open', resolve));
  const messages: any[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d))));
  ws.send(JSON.stringify({ call: 'c1', method: 'ask', input: { id: photoId, question: 'What colour is the circle?', budget: 4 } }));
  ws.send(JSON.stringify({ call: 'c2', method: 'ask', input: { id: photoId, question: '' } }));
  const deadline = Date.now() + 20000;
  while (messages.filter((m) => m.type === 'result').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const result = messages.find((m) => m.type === 'result' && m.data.call === 'c1');
  assert.equal(result.data.ok, true);
  const streamed = messages.filter((m) => m.type === 'token' && m.data.call === 'c1').map((m) => m.data.text).join('');
  assert.equal(streamed, result.data.result.answer);
  const invalid = messages.find((m) => m.type === 'result' && m.data.call === 'c2');
  assert.equal(invalid.data.error.code, 'invalid-input');
  library.pauseIndexing();
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(messages.some((m) => m.type === 'progress' && m.data.state === 'paused'), 'indexing events reach the page');
  library.resumeIndexing();
  ws.close();
});
