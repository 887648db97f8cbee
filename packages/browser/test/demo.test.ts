/**
 * The demo page (examples/browser/) in headless Chromium: served by the COOP/COEP server, it must
 * show a non-zero records/s with no order violation, and after Stop report 0 lost.
 */
import test from 'ava';
import { resolve } from 'node:path';
import { startServer, PACKAGE_DIR, type RunningServer } from '../src/serve.js';
import { launchChromium, type Chromium } from '../src/chromium.js';

interface DemoStats {
  state: string;
  seconds: number;
  recordsPerSecond: number;
  total: number;
  p50Us: number;
  p99Us: number;
  violations: number;
  lost: number | null;
}

const DEMO_DIR = resolve(PACKAGE_DIR, '..', '..', 'examples', 'browser');
let server: RunningServer;
let browser: Chromium;

test.before(async () => {
  server = await startServer({ root: DEMO_DIR });
  browser = await launchChromium();
});

test.after.always(async () => {
  await browser?.close();
  await server?.close();
});

test.serial(
  'the demo page shows a non-zero records/s and latency, no order violation, and loses nothing at Stop',
  async (t) => {
    t.timeout(40_000);
    const errors: string[] = [];
    const page = await browser.context.newPage();
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
    });
    await page.goto(server.url);
    t.is(await page.textContent('#isolation'), 'crossOriginIsolated: true');
    // Two full one-second windows with records in them.
    await page.waitForFunction(
      () => {
        const s = (window as unknown as { demoStats: DemoStats }).demoStats;
        return s.seconds >= 2 && s.recordsPerSecond > 0;
      },
      undefined,
      { timeout: 20_000 },
    );
    const running = await page.evaluate(() => ({ ...(window as unknown as { demoStats: DemoStats }).demoStats }));
    const shown = Number((await page.textContent('#rate'))?.replace(/,/g, ''));
    t.log(
      `demo: ${running.recordsPerSecond} records/s after ${running.seconds} s (page shows ${shown}), ` +
        `p50 ${running.p50Us} us, p99 ${running.p99Us} us, ${running.total} delivered`,
    );
    t.true(shown > 0, 'the page shows a non-zero records/s');
    t.true(running.p99Us > 0 && Number.isFinite(running.p99Us), 'the page shows a p99 latency');
    t.regex((await page.textContent('#p99')) ?? '', /\d+(\.\d+)? (us|ms)/);
    t.is(running.violations, 0);

    await page.click('#stop');
    await page.waitForFunction(
      () => (window as unknown as { demoStats: DemoStats }).demoStats.state === 'stopped',
      undefined,
      { timeout: 10_000 },
    );
    const stopped = await page.evaluate(() => ({ ...(window as unknown as { demoStats: DemoStats }).demoStats }));
    t.log(`stopped: ${stopped.total} delivered, lost ${stopped.lost}, violations ${stopped.violations}`);
    t.is(stopped.lost, 0, 'committed - delivered');
    t.is(stopped.violations, 0);
    t.true(stopped.total > 0);
    t.deepEqual(errors, []);
    await page.close();
  },
);
