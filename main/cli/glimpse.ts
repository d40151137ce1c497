// The `glimpse` command: index, search, caption, ask and status, on the same
// library service the app uses.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiError } from '../api/contract.ts';
import { Api } from '../api/dispatch.ts';
import { Library, LibraryError } from '../library/library.ts';
import { formatEta, formatRate } from '../../renderer/src/format.ts';
import { BUNDLED_PACKS, defaultLibrary } from './paths.ts';

const USAGE = `Usage: glimpse <command> [options]

  glimpse index <folder>              add a folder, index it (progress bar), list the files that failed
  glimpse index --retry-failed [<folder>]   try every failed file and photo again (and index <folder>)
  glimpse search "<text>" [--json] [--limit N] [--folder ID] [--from DATE] [--to DATE]
  glimpse caption <photo> [--budget K]
  glimpse ask <photo> "<question>" [--budget K]
  glimpse status [--json]

Options:
  --library DIR   the library folder (default: $GLIMPSE_LIBRARY, else ${defaultLibrary()})
  --pack ID       the model pack to use (default: the one used before, else the bundled one)
  --packs DIR     an extra folder of model packs`;

class UsageError extends Error {}

const unknownLine = (words: readonly string[]) => `unknown word${words.length === 1 ? '' : 's'} (not in the model's vocabulary): ${words.join(', ')}`;

function bar(done: number, total: number, width = 30): string {
  const f = total === 0 ? 1 : done / total;
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'-'.repeat(width - n)}] ${done}/${total}`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      library: { type: 'string' }, pack: { type: 'string' }, packs: { type: 'string' }, json: { type: 'boolean' },
      limit: { type: 'string' }, budget: { type: 'string' }, folder: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
      'retry-failed': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || command === undefined || command === 'help') {
    console.log(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const int = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got '${raw}'`);
    return Number(raw);
  };
  const need = (n: number, what: string) => {
    if (args.length !== n) throw new UsageError(`${command} needs ${what}`);
  };
  if (!['index', 'search', 'caption', 'ask', 'status'].includes(command)) throw new UsageError(`unknown command '${command}'`);
  if (command === 'index' && !(values['retry-failed'] && args.length === 0)) need(1, 'one folder');
  if (command === 'search') need(1, 'the search text in quotes');
  if (command === 'caption') need(1, 'one photo path');
  if (command === 'ask') need(2, 'a photo path and a question in quotes');
  const budget = int('budget', values.budget);
  const library = await Library.open({
    dir: values.library ?? defaultLibrary(),
    packDirs: [BUNDLED_PACKS, ...(values.packs ? [values.packs] : [])],
    ...(values.pack ? { packId: values.pack } : {}),
    watch: false,
  });
  const api = new Api(library);
  // A broken chosen pack is said before anything is answered with another one.
  const { packIssue: issue } = await api.call('status', {});
  if (issue) process.stderr.write(`glimpse: model pack "${issue.pack}" is broken, using "${issue.usingInstead}" instead: ${issue.error}\n`);
  try {
    switch (command) {
      case 'index': {
        const tty = process.stderr.isTTY;
        let last = '';
        // Subscribed before the folder is added, so no progress is missed.
        api.on('progress', (p) => {
          const eta = p.etaSeconds === null ? '' : ` ETA ${Math.ceil(p.etaSeconds)} s`;
          const line = `${bar(p.done, p.total)} ${p.rate.toFixed(1)} photos/s${eta}`;
          if (tty) process.stderr.write(`\r${line}`);
          else if (line !== last && p.done % 50 === 0) process.stderr.write(`${line}\n`);
          last = line;
        });
        const folder = args[0] === undefined ? null : await api.call('addFolder', { path: path.resolve(args[0]) });
        if (folder?.notice) process.stderr.write(`glimpse: note: ${folder.notice}\n`);
        if (values['retry-failed']) {
          const retried = await api.call('retryFailed', {});
          process.stderr.write(`trying ${retried.files} failed files and ${retried.photos} failed photos again\n`);
        }
        await api.settled();
        if (tty) process.stderr.write('\n');
        const s = await api.call('status', {});
        const errors = (await api.call('errors', {})).filter((e) => folder === null || e.path.startsWith(folder.path));
        console.log(`${folder?.path ?? 'library'}: ${s.counts.indexed} photos indexed for pack ${s.pack}, ${errors.length} failed`);
        for (const e of errors) console.log(`  failed: ${e.path}: ${e.message}`);
        // Paused by an engine or pack fault: the photos are not to blame, and indexing is not done.
        if (s.indexing.problem) {
          process.stderr.write(`glimpse: ${s.indexing.problem}\n`);
          return 1;
        }
        return 0;
      }
      case 'search': {
        const found = await api.call('search', {
          text: args[0],
          limit: int('limit', values.limit) ?? 10,
          ...(values.folder ? { folderId: int('folder', values.folder) } : {}),
          ...(values.from ? { from: values.from } : {}),
          ...(values.to ? { to: values.to } : {}),
        });
        if (values.json) {
          console.log(JSON.stringify(found, null, 1));
          return 0;
        }
        if (found.unknownWords.length > 0) console.log(unknownLine(found.unknownWords));
        // Nothing matches well: say so first, and show the nearest photos only under that label.
        if (!found.goodMatch) console.log(`no good match${found.hits.length > 0 ? '; the nearest photos:' : ''}`);
        for (const h of found.hits) console.log(`${h.score.toFixed(3)}  ${h.path}${h.takenAt ? `  (${h.takenAt})` : ''}`);
        return 0;
      }
      case 'caption': {
        const photo = await api.call('photoAt', { path: path.resolve(args[0] as string) });
        const { text } = await api.call('caption', { id: photo.id, ...(budget === undefined ? {} : { budget }) });
        console.log(text);
        return 0;
      }
      case 'ask': {
        const photo = await api.call('photoAt', { path: path.resolve(args[0] as string) });
        const { unknownWords } = await api.call('ask', { id: photo.id, question: args[1], ...(budget === undefined ? {} : { budget }) }, { onToken: (t) => process.stdout.write(t) });
        process.stdout.write('\n');
        if (unknownWords.length > 0) console.log(unknownLine(unknownWords));
        return 0;
      }
      default: {
        const s = await api.call('status', {});
        if (values.json) console.log(JSON.stringify({ ...s, errors: await api.call('errors', {}) }, null, 1));
        else {
          console.log(`library ${s.dir}, pack ${s.pack}`);
          console.log(`${s.counts.photos} photos in ${s.counts.files} files; ${s.counts.indexed} indexed, ${s.counts.pending} pending, ${s.counts.failed} failed, ${s.counts.missing} files missing`);
          // The rate measured while indexing with this pack (this session's, else the last one's).
          if (s.counts.pending > 0) {
            console.log(s.indexing.etaSeconds === null ? 'time left: not measured yet (the first photos give the rate)'
              : `time left: about ${formatEta(s.indexing.etaSeconds)} for ${s.counts.pending} photos at ${formatRate(s.indexing.rate)} (measured)`);
          }
          for (const f of s.folders) console.log(`  ${f.path}: ${f.files} files${f.available ? '' : ' (not available)'}`);
          if (s.indexing.problem) console.log(s.indexing.problem);
          if (s.packIssue) console.log(`model pack "${s.packIssue.pack}" is broken (${s.packIssue.error}); using "${s.packIssue.usingInstead}" instead`);
        }
        return 0;
      }
    }
  } finally {
    await library.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof LibraryError || err instanceof ApiError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`glimpse: ${(err as Error).message}\n${err instanceof UsageError ? `\n${USAGE}\n` : ''}`);
      process.exit(2);
    }
    process.stderr.write(`glimpse: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
