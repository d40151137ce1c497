// Module hooks (node:module register) that load the stand-in in place of `electron`
// for the process that registers them: the preload test's.
const standIn = new URL('./electron.ts', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: standIn, shortCircuit: true };
  return next(specifier, context);
}
