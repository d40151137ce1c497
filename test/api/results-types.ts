// Compile-time checks (tsc -p ., part of `npm test`): every method's result type is
// read off its handler, typed (never any or unknown), and is what the library returns.
import type { Input, Method, Results } from '../../main/api/contract.ts';
import type { PhotoInfo, SearchHit } from '../../main/library/library.ts';
import type { GlimpseBridge, PlainMethod, StreamingMethod } from '../../main/api/wire.ts';

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Assert<T extends true> = T;
type Untyped<T> = unknown extends T ? true : false;

export type EveryResultTyped = Assert<{ [M in Method]: Untyped<Results[M]> }[Method] extends false ? true : false>;
export type SearchResult = Assert<Same<Results['search'], { hits: SearchHit[]; unknownWords: string[]; goodMatch: boolean; noMatchBelow: number | null }>>;
export type PhotoResult = Assert<Same<Results['photo'], PhotoInfo>>;
export type CaptionResult = Assert<Same<Results['caption'], { text: string }>>;
export type AskResult = Assert<Same<Results['ask'], { answer: string; unknownWords: string[]; fromModel: boolean }>>;
export type AddFolderResult = Assert<Same<Results['addFolder'], { id: number; path: string; available: number; notice: string | null }>>;
export type RemoveResult = Assert<Same<Results['removeFolder'], null>>;
export type SearchInput = Assert<Same<Input<'search'>['from'], string | undefined>>;
/** Every method is either plain or streaming, never both. */
export type MethodsSplit = Assert<Same<PlainMethod | StreamingMethod, Method>>;
export type StreamsAreStreaming = Assert<Same<Parameters<GlimpseBridge['stream']>[0], StreamingMethod>>;
