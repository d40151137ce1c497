// Every invalid input gets a typed error from the contract, never a crash.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiError } from '../../main/api/contract.ts';
import { Api } from '../../main/api/dispatch.ts';
import { Library } from '../../main/library/library.ts';
import { tempDir, testPackDir } from '../helpers.ts';

let library: Library;
let api: Api;
const root = tempDir('api');

before(async () => {
  library = await Library.open({ dir: path.join(root, 'library'), packDirs: [path.dirname(testPackDir())], runtime: { providers: ['cpu'], threads: 1 }, watch: false });
  api = new Api(library);
});
after(async () => library?.close());

const BAD: Array<[string, unknown, string, RegExp]> = [
  ['nonsense', {}, 'unknown-method', /unknown method "nonsense"/],
  ['__proto__', {}, 'unknown-method', /unknown method/],
  ['search', { text: '' }, 'invalid-input', /search: text: the search text is empty/],
  ['search', { text: '   ' }, 'invalid-input', /the search text is empty/],
  ['search', { text: 42 }, 'invalid-input', /search: text:/],
  ['search', { text: 'x', limit: -1 }, 'invalid-input', /search: limit:/],
  ['search', { text: 'x', limit: 1.5 }, 'invalid-input', /search: limit:/],
  ['search', { text: 'x', from: 'yesterday' }, 'invalid-input', /a date like 2024-05-31/],
  ['search', { text: 'x', sql: 'DROP TABLE photos' }, 'invalid-input', /Unrecognized key/],
  ['search', 'a string', 'invalid-input', /search: input:/],
  ['photo', { id: 0 }, 'invalid-input', /photo: id:/],
  ['photo', { id: '1' }, 'invalid-input', /photo: id:/],
  ['photo', { id: 999999 }, 'not-found', /no photo with id 999999/],
  ['ask', { id: 1, question: '' }, 'invalid-input', /the question is empty/],
  ['ask', { id: 1, question: 'x'.repeat(501) }, 'invalid-input', /ask: question:/],
  ['addFolder', { path: path.join(root, 'does-not-exist') }, 'not-found', /does not exist/],
  ['addFolder', { path: path.join(testPackDir(), 'pack.json') }, 'not-a-folder', /is not a folder/],
  ['removeFolder', { id: 12345 }, 'not-found', /no folder with id 12345/],
  ['search', { text: 'a red circle' }, 'nothing-indexed', /no photos are indexed yet/],
];

for (const [method, input, code, message] of BAD) {
  test(`${method}(${JSON.stringify(input)?.slice(0, 40)}) -> ${code}`, async () => {
    await assert.rejects(api.call(method, input), (err: Error) => {
      assert.ok(err instanceof ApiError, `not an ApiError: ${err}`);
      assert.equal(err.code, code);
      assert.match(err.message, message);
      return true;
    });
  });
}

test('valid calls return results', async () => {
  const status = await api.call('status', {});
  assert.equal(status.counts.photos, 0);
  assert.deepEqual(await api.call('listFolders', undefined), []);
  assert.equal((await api.call('engineInfo', {})).provider, 'cpu');
});
