// Every invalid input gets a typed error from the contract, never a crash.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { ApiError, isCalendarDate } from '../../main/api/contract.ts';
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
  ['search', { text: 'x', from: '2024-13-45' }, 'invalid-input', /search: from: not a real date/],
  ['search', { text: 'x', to: '2023-02-29' }, 'invalid-input', /search: to: not a real date/],
  ['search', { text: 'x', from: '2024-04-31' }, 'invalid-input', /not a real date/],
  ['search', { text: 'x', from: '2024-05-31T24:00' }, 'invalid-input', /not a real date/],
  ['search', { text: 'x', from: '2024-05-31T12:60' }, 'invalid-input', /not a real date/],
  ['search', { text: 'x', to: '2024-00-10' }, 'invalid-input', /not a real date/],
  ['addFolder', { path: 'photos' }, 'invalid-input', /addFolder: path: must be an absolute path/],
  ['addFolder', { path: './photos' }, 'invalid-input', /must be an absolute path/],
  ['addFolder', { path: '/tmp/a\u0000b' }, 'invalid-input', /NUL/],
  ['photoAt', { path: '../photo.jpg' }, 'invalid-input', /photoAt: path: must be an absolute path/],
  ['photoAt', { path: '' }, 'invalid-input', /photoAt: path:/],
  ['search', { text: 'a red circle' }, 'nothing-indexed', /no photos are indexed yet/],
  ['search', { text: 'a red circle', from: '2024-02-29', to: '2024-12-31T23:59:59' }, 'nothing-indexed', /no photos are indexed yet/],
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

test('a date is valid exactly when the calendar has it', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), (year, month, day) => {
    const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    // The oracle: JavaScript's own calendar, which rolls 31 April over into 1 May.
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    const exists = month >= 1 && month <= 12 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
    assert.equal(isCalendarDate(text), exists, text);
  }), { seed: 31, numRuns: 5000 });
});

test('valid calls return results', async () => {
  const status = await api.call('status', {});
  assert.equal(status.counts.photos, 0);
  assert.deepEqual(await api.call('listFolders', undefined), []);
  assert.equal((await api.call('engineInfo', {})).provider, 'cpu');
});
