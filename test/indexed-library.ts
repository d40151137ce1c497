// A real library with a few sample photos, indexed by the real engine with the test
// pack: the starting point of the tests that serve it (browser mode, the Electron bridge).
import path from 'node:path';
import { Library } from '../main/library/library.ts';
import { writeSamples } from '../world/samples.ts';
import { testPackDir } from './helpers.ts';

export async function openIndexedLibrary(root: string, samples: { count: number; seed: number }): Promise<{ library: Library; photoId: number }> {
  await writeSamples({ ...samples, size: 96, out: path.join(root, 'samples') });
  const library = await Library.open({ dir: path.join(root, 'library'), packDirs: [path.dirname(testPackDir())], runtime: { providers: ['cpu'], threads: 1 }, watch: false });
  library.addFolder(path.join(root, 'samples', 'photos'));
  await library.settled();
  const first = library.timeline()[0];
  if (!first) throw new Error('the sample photos were not indexed');
  return { library, photoId: first.id };
}
