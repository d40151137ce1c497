// Shared by tests: temporary folders that clean up after themselves, and running the CLIs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

export const ROOT = path.resolve(import.meta.dirname, '..');

export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `glimpse-${label}-`));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function runWorldCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'world', 'cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file below `dir`, relative path -> contents. */
export function readTree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, full), fs.readFileSync(full));
  }
  return out;
}

/** The pack the engine tests run on: the bundled one, or GLIMPSE_TEST_PACK while developing. */
export function testPackDir(): string {
  return process.env.GLIMPSE_TEST_PACK || path.join(ROOT, 'models', 'shapes-tiny');
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** A copy of the test pack under `packs/<id>` with that id, pack.json optionally edited. */
export function packCopy(packs: string, id: string, edit?: (manifest: Record<string, any>) => void): string {
  const dir = path.join(packs, id);
  fs.cpSync(testPackDir(), dir, { recursive: true });
  const file = path.join(dir, 'pack.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  manifest.id = id;
  edit?.(manifest);
  fs.writeFileSync(file, JSON.stringify(manifest));
  return dir;
}
