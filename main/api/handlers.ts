// The contract's methods, one handler each, on the library service. Results (in
// contract.ts) is read off this map, so a result type exists only here, as what the
// handler returns.
import type { Library } from '../library/library.ts';
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
  addFolder: async ({ path }, { library }) => library.addFolder(path),
  removeFolder: async ({ id }, { library }) => {
    library.removeFolder(id);
    return null;
  },
  search: async ({ text, ...options }, { library }) => library.search(text, options),
  photo: async ({ id }, { library }) => library.photo(id),
  photoAt: async ({ path }, { library }) => library.photo(library.photoAt(path)),
  caption: async ({ id, budget }, { library, signal, onToken }) => ({ text: await library.caption(id, generation(budget, signal), onToken) }),
  ask: async ({ id, question, budget }, { library, signal, onToken }) => ({ answer: await library.ask(id, question, generation(budget, signal), onToken) }),
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
