/**
 * The packages as a user gets them: every publishable package is packed with pnpm (workspace and
 * catalog ranges rewritten), the tarballs are checked (what ships, what does not), installed with npm
 * into a fresh project outside the workspace, and used there: a multi-threaded program, a TypeScript
 * file type-checked against the installed declarations, and the `ringbuf` bin.
 *
 * npm fetches the third-party dependencies (pino, piscina, vega, ...) from the registry; everything
 * @ringbuf comes from the tarballs. The steps run in order in one serial test file; a failure names
 * the step and prints the command's output.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './lib/repo.js';

const exec = promisify(execFile);
const FIXTURES = join(ROOT, 'packages', 'integration', 'fixtures', 'installed');
const here = createRequire(join(ROOT, 'packages', 'integration', 'package.json'));

interface Packed {
  name: string;
  version: string;
  dir: string;
  tarball: string;
  stale: string[];
}

interface RunResult {
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command; on failure throws an Error carrying the step, the exit status and the output. */
async function step(what: string, file: string, args: string[], cwd: string, timeoutMs: number): Promise<RunResult> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await exec(file, args, {
      cwd,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
    });
    return { stdout, stderr, ms: Date.now() - started };
  } catch (err) {
    const e = err as { code?: unknown; signal?: unknown; killed?: boolean; stdout?: string; stderr?: string };
    const why = e.killed
      ? `timed out after ${timeoutMs} ms`
      : `exit ${String(e.code)}${typeof e.signal === 'string' ? `, signal ${e.signal}` : ''}`;
    throw new Error(
      `${what} failed (${why}): ${file} ${args.join(' ')}\n  in ${cwd}\n--- stdout ---\n${e.stdout ?? ''}\n--- ` +
        `stderr ---\n${e.stderr ?? ''}`,
    );
  }
}

const work = mkdtempSync(join(tmpdir(), 'ringbuf-pack-'));
const packs = join(work, 'packs');
const project = join(work, 'project');
let packed: Packed[] = [];
let installed = false;

test.after.always(() => {
  if (process.env.RINGBUF_KEEP_PACK_TEST) console.error(`pack test files kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
});

test.serial('pnpm packs every publishable package, with workspace and catalog ranges rewritten', async (t) => {
  const r = await step(
    'pack',
    process.execPath,
    [join(ROOT, 'scripts', 'pack-all.mjs'), '--no-build', '--json', '--out', packs],
    ROOT,
    180_000,
  );
  packed = (JSON.parse(r.stdout) as { packages: Packed[] }).packages;
  t.log(`packed ${packed.length} packages in ${r.ms} ms: ${packed.map((p) => p.name).join(', ')}`);
  const names = packed.map((p) => p.name);
  for (const required of [
    '@ringbuf/core',
    '@ringbuf/instrument',
    '@ringbuf/consumer',
    '@ringbuf/producer-pool',
    '@ringbuf/cli',
  ]) {
    t.true(names.includes(required), `${required} is packed (not private)`);
  }
  for (const p of packed) {
    const manifest = await tarText(p.tarball, 'package/package.json');
    t.false(
      /"(workspace|catalog):/.test(manifest),
      `${p.name}: the packed package.json has no workspace:/catalog: range`,
    );
    const m = JSON.parse(manifest) as Record<string, unknown>;
    t.is(m.license, 'MIT', `${p.name}: license`);
    t.truthy(m.repository, `${p.name}: repository`);
    t.truthy((m.engines as Record<string, string> | undefined)?.node, `${p.name}: engines.node`);
    if (process.env.CI) t.deepEqual(p.stale, [], `${p.name}: no compiled file without a source ships`);
    else if (p.stale.length > 0)
      t.log(`${p.name}: ${p.stale.length} stale compiled files in dist (a local build leftover; CI fails on them)`);
  }
});

type ExportTarget = string | null | { [condition: string]: ExportTarget };

/** Every file an `exports` entry can resolve to, through nested conditions (browser, types, ...). */
function exportTargets(target: ExportTarget): string[] {
  if (target === null) return [];
  if (typeof target === 'string') return [target];
  return Object.values(target).flatMap(exportTargets);
}

/** The text of one file of a tarball. */
async function tarText(tarball: string, member: string): Promise<string> {
  return (await step('tar', 'tar', ['-xzOf', tarball, member], work, 30_000)).stdout;
}

test.serial(
  'each tarball holds the compiled JS, declarations, README and LICENSE, every worker file it loads, and no tests',
  async (t) => {
    t.true(packed.length > 0, 'packed in the previous step');
    let workerRefs = 0;
    for (const p of packed) {
      const files = new Set(
        (await step('tar', 'tar', ['-tzf', p.tarball], work, 30_000)).stdout.split('\n').filter(Boolean),
      );
      const m = JSON.parse(await tarText(p.tarball, 'package/package.json')) as {
        exports?: Record<string, ExportTarget>;
        bin?: Record<string, string>;
      };
      for (const f of ['package/package.json', 'package/README.md', 'package/LICENSE'])
        t.true(files.has(f), `${p.name} ships ${f}`);
      for (const [subpath, target] of Object.entries(m.exports ?? {})) {
        for (const file of exportTargets(target)) {
          t.true(files.has(posix.join('package', file)), `${p.name} export ${subpath} -> ${file} is in the tarball`);
        }
      }
      for (const [bin, file] of Object.entries(m.bin ?? {})) {
        const path = posix.join('package', file);
        t.true(files.has(path), `${p.name} bin ${bin} -> ${file} is in the tarball`);
        if (files.has(path))
          t.true(
            (await tarText(p.tarball, path)).startsWith('#!/usr/bin/env node'),
            `${p.name} bin ${bin} has a node shebang`,
          );
      }
      const leaked = [...files].filter(
        (f) => /^package\/(test|dist\/test|fixtures)\//.test(f) || /tsconfig|\.tsbuildinfo$|\.test\./.test(f),
      );
      t.deepEqual(leaked, [], `${p.name}: no tests, fixtures or build configuration in the tarball`);
      // Workers and piscina tasks are loaded by URL relative to the module: each must ship.
      for (const js of [...files].filter((f) => f.startsWith('package/dist/src/') && f.endsWith('.js'))) {
        // Comments dropped: a doc comment's example URL is not a file the module loads.
        const text = (await tarText(p.tarball, js)).replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
        for (const ref of text.matchAll(/new URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g)) {
          workerRefs++;
          const target = posix.normalize(posix.join(posix.dirname(js), ref[1]!));
          t.true(files.has(target), `${p.name}: ${js.slice(8)} loads ${ref[1]}, which ships (${target.slice(8)})`);
        }
      }
    }
    // The consumer runtime's worker, the pool's piscina task, the bench's workers: at least these.
    t.true(workerRefs >= 3, `found ${workerRefs} modules loaded by URL; the scan must see the worker files`);
  },
);

test.serial('npm installs the tarballs into a fresh project outside the workspace', async (t) => {
  t.true(packed.length > 0, 'packed in the first step');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'ringbuf-user', private: true, type: 'module' }, null, 2) + '\n',
  );
  const typesNode = (JSON.parse(readFileSync(here.resolve('@types/node/package.json'), 'utf8')) as { version: string })
    .version;
  const r = await step(
    'npm install',
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...packed.map((p) => p.tarball),
      `@types/node@${typesNode}`,
    ],
    project,
    300_000,
  );
  t.log(`npm install of ${packed.length} tarballs (+ registry dependencies) took ${r.ms} ms`);
  for (const p of packed) {
    const manifest = join(project, 'node_modules', ...p.name.split('/'), 'package.json');
    t.true(existsSync(manifest), `${p.name} is installed`);
  }
  t.false(existsSync(join(project, 'node_modules', '@ringbuf', 'core', 'test')), 'no tests were installed');
  installed = true;
});

test.serial('installed: 3 producer worker threads and one consumer, 0 lost, in order', async (t) => {
  t.true(installed, 'installed in the previous step');
  copyFileSync(join(FIXTURES, 'three-producers.mjs'), join(project, 'three-producers.mjs'));
  const r = await step('three-producers.mjs', process.execPath, ['three-producers.mjs'], project, 90_000);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
  t.log(`three-producers.mjs in ${r.ms} ms: ${JSON.stringify(result)}`);
  t.is(result.received, 60_000);
  t.is(result.lost, 0);
  t.is(result.outOfOrder, 0);
  t.is(result.duplicates, 0);
});

test.serial(
  'installed: a strict TypeScript file type-checks against the installed .d.ts (and wrong uses do not)',
  async (t) => {
    t.true(installed, 'installed in an earlier step');
    copyFileSync(join(FIXTURES, 'typed.ts'), join(project, 'typed.ts'));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify(
        {
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2024'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            types: ['node'],
          },
          files: ['typed.ts'],
        },
        null,
        2,
      ) + '\n',
    );
    const tsc = join(here.resolve('typescript/package.json'), '..', 'bin', 'tsc');
    const r = await step('tsc --noEmit', process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'], project, 120_000);
    t.log(`tsc --noEmit in ${r.ms} ms`);
    t.is(r.stdout.trim(), '');
  },
);

test.serial('installed: `npx ringbuf load --duration 1 --json` through the installed bin loses nothing', async (t) => {
  t.true(installed, 'installed in an earlier step');
  t.true(existsSync(join(project, 'node_modules', '.bin', 'ringbuf')), 'npm linked the ringbuf bin');
  const r = await step(
    'npx ringbuf load',
    'npx',
    ['--no-install', 'ringbuf', 'load', '--duration', '1', '--json', '--quiet'],
    project,
    120_000,
  );
  const lines = r.stdout.trim().split('\n');
  t.is(lines.length, 1, `--json prints exactly one line on stdout, got:\n${r.stdout}`);
  const report = JSON.parse(lines[0]!) as {
    lost: number;
    duplicates: number;
    orderViolations: number;
    ok: boolean;
    records: { consumed: number };
  };
  t.log(`ringbuf load in ${r.ms} ms: consumed ${report.records.consumed}, lost ${report.lost}`);
  t.is(report.lost, 0);
  t.is(report.duplicates, 0);
  t.is(report.orderViolations, 0);
  t.true(report.records.consumed > 0);
  t.true(report.ok);
});
