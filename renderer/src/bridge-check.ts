// Compile-time check (tsc -p renderer, part of `npm test`; never bundled): the object
// Electron's preload exposes is exactly the `window.glimpse` this page expects, no
// member more or less, each with a compatible signature.
import type { bridge } from '../../preload/preload.ts';

type Exposed = typeof bridge;
type Expected = NonNullable<Window['glimpse']>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

export type PreloadFitsPage = Assert<Exposed extends Expected ? true : false>;
export type SameMembers = Assert<Same<keyof Exposed, keyof Expected>>;
