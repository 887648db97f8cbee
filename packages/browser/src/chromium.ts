/**
 * Headless Chromium for the browser tests, through playwright-core and the system's browser
 * (Debian's `chromium` package: `apt-get install -y chromium`). playwright-core downloads nothing;
 * installers that fetch a browser build of their own do not work on a closed network.
 *
 * The flags keep Chromium from reaching out (component updates, sync, QUIC, background
 * networking): on a machine without network it would stall at start otherwise. Each launch gets a
 * fresh `--user-data-dir` (a temporary directory, removed at close).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where the browser is: `RINGBUF_CHROMIUM`, else Debian's `/usr/bin/chromium`. */
const CHROMIUM_PATH = process.env['RINGBUF_CHROMIUM'] ?? '/usr/bin/chromium';

const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  readonly context: BrowserContext;
  readonly version: string;
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh profile. */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install it (as root: apt-get update && apt-get install -y chromium) ` +
        'or set RINGBUF_CHROMIUM to a Chromium binary',
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'ringbuf-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_FLAGS],
      timeout: 30_000,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const version = context.browser()?.version() ?? 'unknown';
  return {
    context,
    version,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
