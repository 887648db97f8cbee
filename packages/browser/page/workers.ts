/**
 * Module Web Workers that see the page's import map.
 *
 * Chromium (156 here) applies an import map to the document only: a module worker that imports
 * `@ringbuf/consumer` fails with "Failed to resolve module specifier". @ringbuf/core could be
 * imported by URL (its dist/ has no bare specifier), but the consumer's and instrument's dist/
 * import `@ringbuf/core` by name. So each worker starts as a tiny classic script
 * that loads es-module-shims (served at /es-module-shims/), hands it the page's import map with
 * absolute URLs, and imports the worker module through it: the packages' dist/ files are still
 * loaded unchanged; the shim only resolves their specifiers.
 */
import type { FromWorker } from './protocol.js';

const SHIM_URL = new URL('/es-module-shims/es-module-shims.wasm.js', location.href).href;

/** The document's import map, every address made absolute (a blob worker has no base to resolve against). */
function absoluteImportMap(): { imports: Record<string, string> } {
  const script = document.querySelector('script[type="importmap"]');
  const map = JSON.parse(script?.textContent ?? '{}') as { imports?: Record<string, string> };
  const imports: Record<string, string> = {};
  for (const [name, address] of Object.entries(map.imports ?? {})) imports[name] = new URL(address, location.href).href;
  return { imports };
}

/** Starts the module at `moduleUrl` (relative to this page) in a Web Worker, with the page's import map. */
export function startWorker(moduleUrl: string): Worker {
  const source = [
    `importScripts(${JSON.stringify(SHIM_URL)});`,
    `importShim.addImportMap(${JSON.stringify(absoluteImportMap())});`,
    `importShim(${JSON.stringify(new URL(moduleUrl, location.href).href)}).catch((e) => setTimeout(() => { throw e; ` +
      `}));`,
  ].join('\n');
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  return worker;
}

/** A worker that got one job: `ready` once it loaded, `result` once it answered. */
export interface WorkerRun<J, R> {
  readonly ready: Promise<void>;
  send(job: J): void;
  readonly result: Promise<R>;
  terminate(): void;
}

/** Starts `moduleUrl` and wires its ready / result / error messages (and load errors) to promises. */
export function runWorker<J, R>(moduleUrl: string): WorkerRun<J, R> {
  const worker = startWorker(moduleUrl);
  let readyOk!: () => void;
  let fail!: (err: Error) => void;
  let done!: (r: R) => void;
  const ready = new Promise<void>((ok, no) => {
    readyOk = ok;
    fail = no;
  });
  const result = new Promise<R>((ok, no) => {
    done = ok;
    const previous = fail;
    fail = (err) => {
      previous(err);
      no(err);
    };
  });
  // A failure before ready rejects both; only one of them may be awaited.
  ready.catch(() => undefined);
  result.catch(() => undefined);
  worker.onmessage = (event: MessageEvent<FromWorker<R>>) => {
    const msg = event.data;
    if (msg.type === 'ready') readyOk();
    else if (msg.type === 'result') done(msg.result);
    else
      fail(Object.assign(new Error(`${moduleUrl}: ${msg.error.name}: ${msg.error.message}`), { code: msg.error.code }));
  };
  worker.onerror = (event: ErrorEvent) => fail(new Error(`${moduleUrl}: ${event.message || 'worker failed to load'}`));
  return {
    ready,
    result,
    send: (job: J) => worker.postMessage(job),
    terminate: () => worker.terminate(),
  };
}
