// Serves the contract on a Library: validates the input, calls the method, and
// turns every failure into an ApiError with a code (never an uncaught crash).
import { z } from 'zod';
import { Library, LibraryError } from '../library/library.ts';
import { ApiError, inputs, type Method, type Results } from './contract.ts';

export interface CallContext {
  /** Receives streamed text of caption/ask. */
  onToken?: (text: string) => void;
  signal?: AbortSignal;
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof LibraryError) return new ApiError(err.code, err.message);
  const e = err as Error;
  if (e?.name === 'AbortError') return new ApiError('cancelled', 'the request was cancelled');
  if (e?.name === 'BudgetError') return new ApiError('invalid', e.message);
  return new ApiError('internal', e?.message ?? String(err));
}

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.hasOwn(inputs, name);
}

export class Api {
  constructor(readonly library: Library) {}

  async call<M extends Method>(method: M | string, raw: unknown, ctx: CallContext = {}): Promise<Results[M]> {
    if (!isMethod(method)) throw new ApiError('unknown-method', `unknown method ${JSON.stringify(method).slice(0, 80)}`);
    const parsed = inputs[method].safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError('invalid-input', `${method}: ${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`);
    }
    try {
      return (await this.run(method, parsed.data as z.output<(typeof inputs)[M]>, ctx)) as Results[M];
    } catch (err) {
      throw toApiError(err);
    }
  }

  private async run(method: Method, input: any, ctx: CallContext): Promise<unknown> {
    const lib = this.library;
    const stream = { ...(input.budget !== undefined ? { budget: input.budget } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) };
    switch (method) {
      case 'status': return lib.status();
      case 'engineInfo': return lib.engineInfo();
      case 'listFolders': return lib.catalog.folders();
      case 'addFolder': return lib.addFolder(input.path);
      case 'removeFolder': lib.removeFolder(input.id); return null;
      case 'search': return lib.search(input.text, input);
      case 'photo': return lib.photo(input.id);
      case 'photoAt': return lib.photo(lib.photoAt(input.path));
      case 'caption': return { text: await lib.caption(input.id, stream, ctx.onToken) };
      case 'ask': return { answer: await lib.ask(input.id, input.question, stream, ctx.onToken) };
      case 'history': return lib.history(input.id);
      case 'errors': return lib.errors();
      case 'timeline': return lib.timeline();
      case 'packs': return lib.packs();
      case 'addSamples': return lib.addSamples(input.count);
      case 'setPack': lib.setPack(input.id); return null;
      case 'pauseIndexing': lib.pauseIndexing(); return null;
      case 'resumeIndexing': lib.resumeIndexing(); return null;
    }
  }
}
