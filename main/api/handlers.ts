// The contract's methods, one handler each, on the library service. Results (in
// contract.ts) is read off this map, so a result type exists only here, as what the
// handler returns.
import { resolve } from 'node:path';
import type { Library } from '../library/library.ts';
import { domainNotice, dontKnowAnswer, isSampleFolder, judgeSearch, packLanguage } from '../library/understanding.ts';
import type { Method, Parsed } from './contract.ts';

export interface CallContext {
  /** Receives the streamed text of caption and ask. */
  onToken?: (text: string) => void;
  signal?: AbortSignal;
}
export interface HandlerContext extends CallContext { library: Library }

type HandlerShape = { [M in Method]: (input: Parsed<M>, ctx: HandlerContext) => Promise<unknown> };

const generation = (budget: number | undefined, signal: AbortSignal | undefined) =>
  ({ ...(budget !== undefined ? { budget } : {}), ...(signal ? { signal } : {}) });

export const handlers = {
  status: async (_input, { library }) => library.status(),
  engineInfo: async (_input, { library }) => library.engineInfo(),
  listFolders: async (_input, { library }) => library.folders(),
  // A user's own folder, newly added while a narrow-domain pack answers, gets the pack's notice (once: not again for that folder).
  addFolder: async ({ path }, { library }) => {
    const added = !library.folders().some((f) => f.path === resolve(path));
    const folder = library.addFolder(path);
    return { ...folder, notice: added && !isSampleFolder(folder.path) ? domainNotice(library.pack) : null };
  },
  removeFolder: async ({ id }, { library }) => {
    library.removeFolder(id);
    return null;
  },
  search: async ({ text, ...options }, { library }) => {
    const language = packLanguage(library.pack);
    const { hits, bestCosine } = await library.rankedSearch(language.rewrite(text), options);
    return { hits, ...judgeSearch(language, text, bestCosine) };
  },
  photo: async ({ id }, { library }) => library.photo(id),
  photoAt: async ({ path }, { library }) => library.photo(library.photoAt(path)),
  caption: async ({ id, budget }, { library, signal, onToken }) => ({ text: await library.caption(id, generation(budget, signal), onToken) }),
  // A question whose key word the pack does not know is answered as such, before the model runs, and not kept as the model's answer.
  ask: async ({ id, question, budget }, { library, signal, onToken }) => {
    const language = packLanguage(library.pack);
    const unknownWords = language.unknownWords(question);
    const keyWords = language.keyWords(unknownWords);
    if (keyWords.length > 0) {
      signal?.throwIfAborted();
      library.photo(id);
      const answer = dontKnowAnswer(keyWords);
      onToken?.(answer);
      // Transports post tokens in a later turn (IPC, WebSocket): let the text go out before the result, as a model's last token does.
      await new Promise((done) => setImmediate(done));
      return { answer, unknownWords, fromModel: false };
    }
    const asked = { ...generation(budget, signal), modelReads: language.rewrite(question) };
    return { answer: await library.ask(id, question, asked, onToken), unknownWords, fromModel: true };
  },
  history: async ({ id }, { library }) => library.history(id),
  errors: async (_input, { library }) => library.errors(),
  timeline: async (_input, { library }) => library.timeline(),
  packs: async (_input, { library }) => library.packs(),
  addSamples: async ({ count }, { library }) => library.addSamples(count),
  setPack: async ({ id }, { library }) => {
    library.setPack(id);
    return null;
  },
  pauseIndexing: async (_input, { library }) => {
    library.pauseIndexing();
    return null;
  },
  resumeIndexing: async (_input, { library }) => {
    library.resumeIndexing();
    return null;
  },
  retryFailed: async (_input, { library }) => library.retryFailed(),
} satisfies HandlerShape;
