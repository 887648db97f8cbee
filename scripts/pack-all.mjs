#!/usr/bin/env node
// Packs every publishable (non-private) package under packages/ into one folder, with pnpm's pack,
// which rewrites `workspace:` and `catalog:` ranges to real versions. Then, in a project of your
// own: `npm install <folder>/*.tgz` (or only the tarballs you need and their @ringbuf dependencies).
//
//   node scripts/pack-all.mjs [--out DIR] [--no-build] [--json]
//
// --out DIR   where the tarballs go (default: <tmpdir>/ringbuf-packs; old tarballs there are removed)
// --no-build  skip `pnpm run build` (the caller built already)
// --json      print one JSON object { out, packages: [{ name, version, dir, tarball, stale }] }
//
// Every compiled file under a package's dist/src must come from a source under src/: a file left
// behind by a source that was moved or deleted would ship in the tarball. Those are listed as
// `stale` (and on stderr); with CI set in the environment they are an error.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const PNPM = ['-y', 'pnpm@12.4.2', '--config.update-notifier=false'];
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

let args;
try {
  args = parseArgs({
    options: {
      out: { type: 'string' },
      'no-build': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  console.error(`pack-all: ${err.message}`);
  process.exit(2);
}
if (args.help) {
  console.log('usage: node scripts/pack-all.mjs [--out DIR] [--no-build] [--json]');
  process.exit(0);
}
const out = resolve(args.out ?? join(tmpdir(), 'ringbuf-packs'));

/** The publishable packages, in packages/ order. */
function publishablePackages() {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .filter((d) => existsSync(join(dir, d, 'package.json')))
    .map((d) => ({ dir: join(dir, d), manifest: JSON.parse(readFileSync(join(dir, d, 'package.json'), 'utf8')) }))
    .filter((p) => p.manifest.private !== true);
}

/** Files under dist/src with no source file under src/ (left by a moved or deleted source). */
function staleOutputs(pkgDir) {
  const dist = join(pkgDir, 'dist', 'src');
  if (!existsSync(dist)) return [];
  const stale = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const base = relative(dist, path).replace(/(\.d\.ts|\.js)(\.map)?$/, '');
        if (!existsSync(join(pkgDir, 'src', `${base}.ts`)) && !existsSync(join(pkgDir, 'src', `${base}.mts`))) {
          stale.push(relative(pkgDir, path));
        }
      }
    }
  };
  walk(dist);
  return stale;
}

const log = (line) => process.stderr.write(`pack-all: ${line}\n`);

if (!args['no-build']) {
  log('building (turbo)');
  execFileSync('npx', [...PNPM, 'run', 'build', '--output-logs=errors-only'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (f.endsWith('.tgz')) rmSync(join(out, f));

const packed = [];
let staleTotal = 0;
for (const { dir, manifest } of publishablePackages()) {
  const stale = staleOutputs(dir);
  staleTotal += stale.length;
  if (stale.length > 0) {
    const shown = stale.slice(0, 4).join(', ') + (stale.length > 4 ? `, and ${stale.length - 4} more` : '');
    log(`${manifest.name}: ${stale.length} compiled files without a source would ship: ${shown}`);
  }
  const before = new Set(readdirSync(out));
  execFileSync('npx', [...PNPM, 'pack', '--pack-destination', out], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const made = readdirSync(out).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (made.length !== 1) throw new Error(`pnpm pack in ${dir} made ${made.length} tarballs: ${made.join(', ')}`);
  const tarball = join(out, made[0]);
  packed.push({ name: manifest.name, version: manifest.version, dir: relative(root, dir), tarball, stale });
  log(`${manifest.name}@${manifest.version} -> ${relative(process.cwd(), tarball)}`);
}
if (args.json) console.log(JSON.stringify({ out, packages: packed }));
else console.log(`npm install ${packed.map((p) => relative(process.cwd(), p.tarball)).join(' ')}`);
if (staleTotal > 0 && process.env.CI) {
  log('stale compiled files would ship (run `pnpm run clean` and build again)');
  process.exitCode = 1;
}
