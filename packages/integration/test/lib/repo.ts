/** Where the repository is, and its Markdown files. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (this file is packages/integration/dist/test/lib/repo.js). */
export const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

/** Markdown files git tracks, plus new ones not ignored (so a file is checked before its first commit). */
export function markdownFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.md'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return [...new Set(out.split('\0').filter((f) => f.length > 0 && !f.split('/').includes('node_modules')))]
    .sort()
    .map((f) => join(ROOT, f));
}
