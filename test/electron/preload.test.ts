// The Electron bridge end to end without Electron: preload/preload.ts loaded with a
// stand-in for `electron` whose contextBridge copies values the way Electron's does
// (stand-in/electron.ts), wired over stand-in IPC to the real main-process handlers
// (main/electron/ipc.ts), the real library and the real engine process. The page side
// is the renderer's own BridgeApi.
import assert from 'node:assert/strict';
import { register } from 'node:module';
import { after, before, test } from 'node:test';
import { Api } from '../../main/api/dispatch.ts';
import type { GlimpseBridge, Reply } from '../../main/api/wire.ts';
import { fromOurPage } from '../../main/electron/guards.ts';
import { forwardEvents, serveIpc } from '../../main/electron/ipc.ts';
import { Library } from '../../main/library/library.ts';
import { BridgeApi, GlimpseError, isAbort } from '../../renderer/src/api.ts';
import { tempDir } from '../helpers.ts';
import { openIndexedLibrary } from '../indexed-library.ts';

register('./stand-in/hooks.mjs', import.meta.url);
const electron = await import('./stand-in/electron.ts');
await import('../../preload/preload.ts');
const glimpse = electron.mainWorld.glimpse as GlimpseBridge;

const root = tempDir('preload');
let library: Library;
let photoId: number;

before(async () => {
  ({ library, photoId } = await openIndexedLibrary(root, { count: 3, seed: 5 }));
  const api = new Api(library);
  serveIpc(electron.ipcMain, api, (event) => fromOurPage(event, electron.sender));
  forwardEvents(api, () => electron.sender);
});
after(async () => library?.close());

/** Starts a stream on the raw bridge; resolves with its tokens and reply. */
function streamed(method: 'ask' | 'caption', input: object, onStart: (call: string) => void = () => undefined) {
  const tokens: string[] = [];
  return new Promise<{ tokens: string[]; reply: Reply }>((resolve) => {
    const call = glimpse.stream(method as 'ask', input as { id: number; question: string }, (t) => tokens.push(t), (reply) => resolve({ tokens, reply }));
    assert.equal(typeof call, 'string');
    onStart(call);
  });
}

test('the stand-in bridge loses what Electron loses: an AbortSignal arrives without its methods', () => {
  const signal = electron.cross(new AbortController().signal) as { addEventListener?: unknown; aborted?: unknown };
  assert.equal(signal.addEventListener, undefined);
  assert.equal(signal.aborted, undefined);
  const error = electron.cross(Object.assign(new Error('boom'), { code: 'not-found' })) as Error & { code?: string };
  assert.equal(error.message, 'boom');
  assert.equal(error.code, undefined);
});

test('the stand-in keeps Electron\'s order: what the main process sent before it replied arrives first', async () => {
  const seen: string[] = [];
  electron.ipcRenderer.on('order-probe', (_event: unknown, text: unknown) => seen.push(String(text)));
  electron.ipcMain.handle('order-probe', (event: { sender: { send(channel: string, ...args: unknown[]): void } }) => {
    event.sender.send('order-probe', 'a token');
    return 'the reply';
  });
  const reply = await electron.ipcRenderer.invoke('order-probe');
  seen.push(String(reply));
  assert.deepEqual(seen, ['a token', 'the reply']);
});

test('the page gets exactly the contract: functions only, nothing of Electron', () => {
  assert.deepEqual(Object.keys(glimpse).sort(), ['call', 'cancel', 'on', 'photoUrl', 'stream', 'thumbUrl']);
  for (const value of Object.values(glimpse)) assert.equal(typeof value, 'function');
  assert.equal(glimpse.thumbUrl(7), 'glimpse://thumb/7');
});

test('a call answers with a Reply whose error code survives the bridge', async () => {
  const ok = await glimpse.call('status', {});
  assert.equal(ok.ok, true);
  const missing = await glimpse.call('photo', { id: 999999 });
  assert.deepEqual(missing, { ok: false, error: { code: 'not-found', message: 'no photo with id 999999' } });
  const bridged = new BridgeApi(glimpse);
  await assert.rejects(bridged.call('photo', { id: 999999 }), (err: unknown) => err instanceof GlimpseError && err.code === 'not-found');
  await assert.rejects(bridged.call('search', { text: 'x', from: '2024-13-45' }), (err: unknown) => err instanceof GlimpseError && err.code === 'invalid-input');
});

test('ask streams its answer token by token over the bridge', async () => {
  const { tokens, reply } = await streamed('ask', { id: photoId, question: 'How many objects are there?', budget: 4 });
  assert.equal(reply.ok, true);
  assert.ok(tokens.length > 0);
  assert.equal(tokens.join(''), (reply as { result: { answer: string } }).result.answer);
});

test('cancel(id) stops the stream in the main process: the reply says cancelled and nothing is kept', async () => {
  const before = library.history(photoId).length;
  const { tokens, reply } = await streamed('ask', { id: photoId, question: 'What colour is the circle?' }, (call) => glimpse.cancel(call));
  assert.deepEqual(reply, { ok: false, error: { code: 'cancelled', message: 'the request was cancelled' } });
  assert.deepEqual(tokens, []);
  assert.equal(library.history(photoId).length, before, 'a cancelled question is not stored');
});

test('the renderer aborts ask with an AbortSignal that never crosses the bridge', async () => {
  const bridged = new BridgeApi(glimpse);
  const abort = new AbortController();
  const seen: string[] = [];
  const asking = bridged.stream('caption', { id: photoId, budget: 2 }, (t) => {
    seen.push(t);
    abort.abort();
  }, abort.signal);
  await assert.rejects(asking, (err: unknown) => isAbort(err));
  assert.ok(seen.length <= 1, 'no tokens reach the page after it aborted');
  // Aborting before starting never reaches the main process at all.
  const early = new AbortController();
  early.abort();
  await assert.rejects(bridged.stream('ask', { id: photoId, question: 'What is there?' }, () => undefined, early.signal), (err: unknown) => isAbort(err));
  // And the bridge still works afterwards.
  const again = await bridged.stream('ask', { id: photoId, question: 'How many objects are there?' }, () => undefined);
  assert.ok(again.answer.length > 0);
});

test('library events reach the page through the bridge', async () => {
  const got: unknown[] = [];
  const off = glimpse.on('progress', (p) => got.push(p));
  library.pauseIndexing();
  for (let i = 0; i < 250 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  library.resumeIndexing();
  off();
  assert.ok(got.some((p) => (p as { state?: string }).state === 'paused'), JSON.stringify(got));
});

test('messages from a frame that is not our page are refused', async () => {
  const saved = { ...electron.frame };
  try {
    electron.frame.parent = { url: 'glimpse://app/index.html' };
    assert.deepEqual(await glimpse.call('status', {}), { ok: false, error: { code: 'forbidden', message: 'refused: not the Glimpse window' } });
    electron.frame.parent = null;
    electron.frame.url = 'https://evil.example/';
    assert.equal((await glimpse.call('status', {})).ok, false);
    const { reply } = await streamed('ask', { id: photoId, question: 'What is there?' });
    assert.equal(reply.ok, false);
  } finally {
    Object.assign(electron.frame, saved);
  }
});
