// Debian's Chromium driven by playwright-core (never `playwright install`), with the flags the
// architecture notes give: headless, no sandbox (containers), fake camera and microphone, and WebRTC
// over loopback so two pages on one machine can call each other. Screenshots go to test-results/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const ROOT = path.resolve(__dirname, '../..');
export const RESULTS_DIR = path.join(ROOT, 'test-results');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// playwright adds --headless and a fresh profile (--user-data-dir) of its own for every launch.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

export interface Chromium {
  browser: Browser;
  /** A new isolated browser profile (its own storage: one person), with camera and microphone allowed. */
  person(name: string, baseURL: string): Promise<{ context: BrowserContext; page: Page }>;
  /** Saves a full-page screenshot as test-results/<NN>-<step>.png. */
  screenshot(page: Page, step: string): Promise<string>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  let shots = 0;
  return {
    browser,
    async person(name, baseURL) {
      const context = await browser.newContext({
        baseURL,
        permissions: ['camera', 'microphone', 'clipboard-read', 'clipboard-write'],
        viewport: { width: 1280, height: 860 },
      });
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error(`[${name}] page error: ${error.message}`));
      return { context, page };
    },
    async screenshot(page, step) {
      const file = path.join(
        RESULTS_DIR,
        `${String(++shots).padStart(2, '0')}-${step.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`,
      );
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await browser.close();
    },
  };
}
