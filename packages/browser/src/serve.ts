#!/usr/bin/env node
/**
 * A tiny static server for pages that use the ring: every response carries the two headers that
 * make a page cross-origin isolated (`crossOriginIsolated === true`), without which a browser
 * offers no SharedArrayBuffer:
 *
 *   Cross-Origin-Opener-Policy: same-origin
 *   Cross-Origin-Embedder-Policy: require-corp
 *
 * It serves one directory at `/` and, beside it, the built packages a page loads through its
 * import map, unchanged from their `dist/` folders (no bundling, no rewriting):
 *
 *   /@ringbuf/core/dist/...         @ringbuf/core
 *   /@ringbuf/instrument/dist/...   @ringbuf/instrument
 *   /@ringbuf/consumer/dist/...     @ringbuf/consumer (its browser entry: dist/src/browser.js)
 *   /es-module-shims/...            es-module-shims' dist/ (import maps inside Web Workers)
 *
 * Only GET and HEAD; only files below those roots (no directory listings, no `..`). Listens on
 * 127.0.0.1. For local development and tests, not for production.
 *
 * CLI: `node packages/browser/dist/src/serve.js [DIR] [--port N] [--host H]` prints the URL on
 * stdout and serves until Ctrl-C.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { realpathSync } from 'node:fs';
import { stat, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';

/** The headers that make a document cross-origin isolated (and so give it SharedArrayBuffer). */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.md': 'text/markdown; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

/** One URL prefix served from one directory. */
export interface Mount {
  /** URL path prefix, starting and ending with `/`. */
  prefix: string;
  /** Absolute directory. */
  dir: string;
  /** When set, only paths below these subfolders of `dir` are served (e.g. `['dist/']`). */
  only?: readonly string[];
}

export interface ServeOptions {
  /** Directory served at `/`. */
  root: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Extra mounts, tried before the defaults. */
  mounts?: readonly Mount[];
}

export interface RunningServer {
  /** `http://host:port/` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

/** The packages a page loads through its import map, and es-module-shims for its workers. */
export function defaultMounts(): Mount[] {
  return [
    { prefix: '/@ringbuf/core/', dir: packageDir('@ringbuf/core'), only: ['dist/'] },
    { prefix: '/@ringbuf/instrument/', dir: packageDir('@ringbuf/instrument'), only: ['dist/'] },
    { prefix: '/@ringbuf/consumer/', dir: packageDir('@ringbuf/consumer'), only: ['dist/'] },
    { prefix: '/es-module-shims/', dir: dirname(require.resolve('es-module-shims/wasm')) },
  ];
}

/** The file a URL path names, or undefined when it is outside every mount. */
export function resolvePath(urlPath: string, root: string, mounts: readonly Mount[]): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.split('/').includes('..')) return undefined;
  for (const mount of mounts) {
    if (!decoded.startsWith(mount.prefix)) continue;
    const rest = decoded.slice(mount.prefix.length);
    if (mount.only !== undefined && !mount.only.some((p) => rest.startsWith(p))) return undefined;
    return within(mount.dir, rest);
  }
  return within(root, decoded.slice(1));
}

function within(dir: string, rest: string): string | undefined {
  const base = resolve(dir);
  const file = resolve(base, rest);
  return file === base || file.startsWith(base + sep) ? file : undefined;
}

/** Starts the server; resolves once it listens. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const root = resolve(options.root);
  const mounts = [...(options.mounts ?? []), ...defaultMounts()];
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    handle(req, res, root, mounts).catch(() => send(res, 500, 'internal error'));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  mounts: readonly Mount[],
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'method not allowed');
    return;
  }
  const urlPath = new URL(req.url ?? '/', 'http://localhost').pathname;
  let file = resolvePath(urlPath.endsWith('/') ? `${urlPath}index.html` : urlPath, root, mounts);
  if (file === undefined) {
    send(res, 404, 'not found');
    return;
  }
  let info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    file = join(file, 'index.html');
    info = await stat(file).catch(() => undefined);
  }
  if (info === undefined || !info.isFile()) {
    send(res, 404, 'not found');
    return;
  }
  const body = await readFile(file);
  res.writeHead(200, {
    ...ISOLATION_HEADERS,
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': body.byteLength,
    'Cache-Control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function send(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        port: { type: 'string', default: '8000' },
        host: { type: 'string', default: '127.0.0.1' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    process.stderr.write(`serve: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write('usage: serve.js [DIR] [--port N (default 8000, 0: any)] [--host H (default 127.0.0.1)]\n');
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || positionals.length > 1) {
    process.stderr.write(`serve: --port must be an integer from 0 to 65535 and at most one DIR is accepted\n`);
    process.exitCode = 2;
    return;
  }
  const root = resolve(positionals[0] ?? '.');
  const server = await startServer({ root, port, host: values.host });
  process.stdout.write(`serving ${root} at ${server.url} (COOP/COEP set: the page is cross-origin isolated)\n`);
  process.once('SIGINT', () => void server.close());
  process.once('SIGTERM', () => void server.close());
}

if (process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url) {
  await main();
}

/** This package's directory (the test pages live in its static/ and dist/page/). */
export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
