// Serves the contract on a Library, for every transport (HTTP, WebSocket, IPC, the
// CLI): validates the input, runs the method's handler, and turns every failure into
// an ApiError with a code (never an uncaught crash). Events reach callers through here
// too, so no transport talks to the Library directly.
import type { z } from 'zod';
import { LibraryError, type Library } from '../library/library.ts';
import { ApiError, inputs, type Events, type Method, type Parsed, type Results } from './contract.ts';
import { handlers, type CallContext, type HandlerContext } from './handlers.ts';
import { errorReply, okReply, type EventName, type Reply } from './wire.ts';

export type { CallContext };

/** The handler map as the contract states it; `handlers` must be assignable to it as written. */
type HandlerMap = { [M in Method]: (input: Parsed<M>, ctx: HandlerContext) => Promise<Results[M]> };
const table: HandlerMap = handlers;
/** The input schemas, indexed so that a method's schema parses to that method's handler input. */
const schemas: { [M in Method]: z.ZodType<Parsed<M>> } = inputs;

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof LibraryError) return new ApiError(err.code, err.message);
  const e = err as Error | undefined;
  if (e?.name === 'AbortError') return new ApiError('cancelled', 'the request was cancelled');
  if (e?.name === 'BudgetError') return new ApiError('invalid', e.message);
  return new ApiError('internal', e?.message ?? String(err));
}

/** Any failure as the wire's error reply. */
export function failure(err: unknown): Reply<never> {
  const e = toApiError(err);
  return errorReply(e.code, e.message);
}

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.hasOwn(inputs, name);
}

type Subscribe<E extends EventName> = (handler: (data: Events[E]) => void) => () => void;

export class Api {
  private readonly subscribe: { [E in EventName]: Subscribe<E> };

  constructor(readonly library: Library) {
    this.subscribe = {
      progress: (handler) => {
        library.on('progress', handler);
        return () => library.off('progress', handler);
      },
      idle: (handler) => {
        library.on('idle', handler);
        return () => library.off('idle', handler);
      },
      changed: (handler) => {
        const listener = () => handler({});
        library.on('changed', listener);
        return () => library.off('changed', listener);
      },
    };
  }

  /** Calls a method by name with unvalidated input; rejects with an ApiError. */
  call<M extends Method>(method: M, raw: unknown, ctx?: CallContext): Promise<Results[M]>;
  call(method: string, raw: unknown, ctx?: CallContext): Promise<unknown>;
  async call(method: string, raw: unknown, ctx: CallContext = {}): Promise<unknown> {
    if (!isMethod(method)) throw new ApiError('unknown-method', `unknown method ${JSON.stringify(method)?.slice(0, 80)}`);
    return this.run(method, raw, ctx);
  }

  /** The same call, answered as the wire's envelope instead of a rejection. */
  async reply(method: unknown, raw: unknown, ctx: CallContext = {}): Promise<Reply> {
    try {
      return okReply(await this.call(String(method), raw, ctx));
    } catch (err) {
      return failure(err);
    }
  }

  /** Library events; returns the unsubscribe function. */
  on<E extends EventName>(event: E, handler: (data: Events[E]) => void): () => void {
    const subscribe: Subscribe<E> = this.subscribe[event];
    return subscribe(handler);
  }

  /** Resolves when scans have been applied and indexing has nothing left (or is paused). */
  settled(): Promise<void> {
    return this.library.settled();
  }

  private async run<M extends Method>(method: M, raw: unknown, ctx: CallContext): Promise<Results[M]> {
    const schema = schemas[method];
    const parsed = schema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError('invalid-input', `${method}: ${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`);
    }
    const handler: HandlerMap[M] = table[method];
    try {
      const result = await handler(parsed.data, { ...ctx, library: this.library });
      // A caller that cancelled is told so, even when the answer was complete by then.
      ctx.signal?.throwIfAborted();
      return result;
    } catch (err) {
      throw toApiError(err);
    }
  }
}
