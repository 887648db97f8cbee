#!/usr/bin/env node
// The line-width rule Prettier cannot enforce (it does not wrap comments or string literals): every
// line of the workspace's TypeScript and JavaScript sources is at most 120 characters, the
// printWidth of .prettierrc.json. Counts characters (code points), not bytes: the box-drawing
// diagrams count one column a character. Exits 1 and lists the lines that are longer.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WIDTH = JSON.parse(readFileSync(join(root, '.prettierrc.json'), 'utf8')).printWidth;
const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts', '*.mjs', '*.js'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => f !== '' && !f.includes('/static/'));
let long = 0;
for (const file of files) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  lines.forEach((line, i) => {
    const width = [...line].length;
    if (width > WIDTH) {
      long++;
      console.log(`${file}:${i + 1}: ${width} characters`);
    }
  });
}
console.log(`line-width: ${files.length} files, ${long} lines over ${WIDTH} characters`);
process.exitCode = long > 0 ? 1 : 0;
