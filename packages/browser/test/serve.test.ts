/**
 * The COOP/COEP server: the isolation headers on every response, and only files below its roots
 * (table-driven bad paths).
 */
import test from 'ava';
import { get } from 'node:http';
import { join } from 'node:path';
import { startServer, resolvePath, defaultMounts, PACKAGE_DIR, type RunningServer } from '../src/serve.js';

let server: RunningServer;
test.before(async () => {
  server = await startServer({ root: PACKAGE_DIR });
});
test.after.always(async () => {
  await server?.close();
});

const outside: readonly string[] = [
  '/../package.json',
  '/static/../../package.json',
  '/%2e%2e/package.json',
  '/static/%2E%2E/%2E%2E/x',
  '/a%00b',
  '/%E0%A4%A', // malformed escape
  '/@ringbuf/core/package.json', // mounts serve dist/ only
  '/@ringbuf/core/src/ring.ts',
  '/@ringbuf/core/dist/../src/ring.ts',
];
for (const path of outside) {
  test(`resolvePath refuses ${JSON.stringify(path)}`, (t) => {
    t.is(resolvePath(path, PACKAGE_DIR, defaultMounts()), undefined);
  });
}

test('resolvePath maps the root and the package mounts', (t) => {
  const mounts = defaultMounts();
  t.is(resolvePath('/static/test.html', PACKAGE_DIR, mounts), join(PACKAGE_DIR, 'static', 'test.html'));
  t.regex(
    resolvePath('/@ringbuf/core/dist/src/index.js', PACKAGE_DIR, mounts) ?? '',
    /ringbuf-core[/\\]dist[/\\]src[/\\]index\.js$/,
  );
  t.regex(
    resolvePath('/es-module-shims/es-module-shims.wasm.js', PACKAGE_DIR, mounts) ?? '',
    /es-module-shims\.wasm\.js$/,
  );
});

test('every response carries COOP/COEP; missing files are 404, other methods 405, escapes 404', async (t) => {
  const ok = await fetch(new URL('/static/test.html', server.url));
  t.is(ok.status, 200);
  t.is(ok.headers.get('cross-origin-opener-policy'), 'same-origin');
  t.is(ok.headers.get('cross-origin-embedder-policy'), 'require-corp');
  t.is(ok.headers.get('content-type'), 'text/html; charset=utf-8');
  const js = await fetch(new URL('/@ringbuf/consumer/dist/src/browser.js', server.url));
  t.is(js.status, 200);
  t.is(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const missing = await fetch(new URL('/static/nope.html', server.url));
  t.is(missing.status, 404);
  t.is(missing.headers.get('cross-origin-embedder-policy'), 'require-corp');
  t.is((await fetch(new URL('/static/test.html', server.url), { method: 'POST' })).status, 405);
  // Raw paths (fetch would normalise the dot segments before sending): the URL's dot segments stop
  // at the root, so these name the root's own package.json, never the workspace's.
  for (const path of ['/%2e%2e/%2e%2e/package.json', '/static/../../../package.json']) {
    const { status, body } = await rawGet(path);
    t.is(status, 200, path);
    t.is((JSON.parse(body) as { name: string }).name, '@ringbuf/browser-test', path);
  }
  t.is((await rawGet('/@ringbuf/core/dist/../package.json')).status, 404, 'a mount serves dist/ only');
});

/** A GET of `path` sent exactly as written. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    get({ host: '127.0.0.1', port: server.port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    }).on('error', fail);
  });
}
