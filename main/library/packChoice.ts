// Which model pack a library opens with: the one asked for, else the one chosen
// before, else the first usable one; and, when the one chosen before is broken or
// gone, why (said before another one is used). The pack that served before keeps
// answering until the chosen one has indexed everything.
import path from 'node:path';
import { discoverPacks, PackError, type DiscoveredPack, type Pack } from '../engine/pack.ts';
import type { Catalog } from './catalog.ts';
import { LibraryError } from './errors.ts';
import { packLanguage } from './understanding.ts';

/**
 * The packs under `roots` as the library can use them: each one the engine accepts is also
 * read as a language (understanding.ts: its alias table against its tokenizer), so a table
 * that does not fit is found here, at open, and reported like any other broken pack, not
 * thrown by the first search.
 */
export function discoverLibraryPacks(roots: readonly string[], options: { verifyHashes?: boolean } = {}): DiscoveredPack[] {
  return discoverPacks(roots, options).map((found) => {
    if (!found.pack) return found;
    try {
      packLanguage(found.pack);
      return found;
    } catch (err) {
      const error = err instanceof PackError ? err.message : new PackError(found.id, (err as Error).message).message;
      return { dir: found.dir, id: found.id, error };
    }
  });
}

/** The pack the library was set to use but cannot, and why: said before falling back. */
export interface PackIssue { pack: string; dir: string | null; error: string; usingInstead: string }

export interface PackChoice {
  /** The pack to index with. */
  target: Pack;
  /** The pack that answers meanwhile. */
  serving: Pack;
  issue: PackIssue | null;
  packs: DiscoveredPack[];
}

/** Chooses, and records the choice in the catalog's settings. Throws 'no-pack' when none can be used. */
export function choosePacks(catalog: Catalog, packs: DiscoveredPack[], options: { packId?: string; packDirs: readonly string[] }): PackChoice {
  const usable = (id: string | null) => packs.find((p) => p.pack && p.id === id)?.pack;
  const wanted = options.packId ?? catalog.setting('pack');
  const target = usable(wanted) ?? (options.packId ? undefined : packs.find((p) => p.pack)?.pack);
  if (!target) {
    const listed = packs.map((p) => `${p.id}${p.error ? ` (${p.error})` : ''}`).join('; ') || 'none found';
    throw new LibraryError('no-pack', `no usable model pack${wanted ? ` "${wanted}"` : ''} in ${options.packDirs.join(', ')}: ${listed}`);
  }
  // The pack chosen before is broken or gone: say which and why before using another.
  let issue: PackIssue | null = null;
  if (wanted && target.id !== wanted) {
    const broken = packs.find((p) => p.id === wanted || path.basename(p.dir) === wanted);
    issue = { pack: wanted, dir: broken?.dir ?? null, error: broken?.error ?? 'it is no longer installed', usingInstead: target.id };
  }
  const serving = usable(catalog.setting('servingPack')) ?? target;
  // A fallback is not a new choice: the broken pack stays the setting, so it is used again once repaired.
  if (!issue) catalog.setSetting('pack', target.id);
  catalog.setSetting('servingPack', serving.id);
  return { target, serving, issue, packs };
}
