// One handle over the three browser engines this machine has (/work/shared/browsers.md), so a
// test or benchmark is written once and run in each: Chromium (playwright-core), Firefox ESR
// (puppeteer-core over WebDriver BiDi) and WebKitGTK's MiniBrowser (W3C WebDriver under Xvfb).
import type { Browser as PwBrowser, Page as PwPage } from 'playwright-core';
import puppeteer, { type Browser as PpBrowser, type Page as PpPage } from 'puppeteer-core';
import { launchChromium } from './browser.js';
import { openWebKit, type WebKitSession } from './engines-webkit.js';

export const ENGINES = ['chromium', 'firefox', 'webkit', 'webkit-managed'] as const;
export type EngineName = typeof ENGINES[number];

export const FIREFOX_PATH = process.env.NOWCAST_FIREFOX ?? '/usr/bin/firefox-esr';

export interface Engine {
  readonly name: EngineName;
  /** Navigates and waits for the load event. 'webkit-managed' adds ?mse=managed to /watch/ pages. */
  goto(url: string): Promise<void>;
  /** Evaluates JavaScript in the page and returns its completion value (a promise is awaited); JSON values only. */
  evaluate<T>(js: string): Promise<T>;
  /** Runs before the page's own scripts on every later navigation. Classic WebDriver has no such hook (WebKit). */
  addInitScript?(js: string): Promise<void>;
  /**
   * Hides the page from its user and shows it again, the closest to a background tab this
   * engine gives us; `hiddenBy` says how, so a test can say what it really exercised.
   */
  setHidden?(hidden: boolean): Promise<void>;
  readonly hiddenBy?: string;
  screenshot?(): Promise<Buffer>;
  /** Closes the browser and kills every process it started. Safe to call twice. */
  close(): Promise<void>;
}

/** Sets one query parameter on a /watch/ URL; other URLs are left alone. */
export function withQuery(url: string, key: string, value: string): string {
  const u = new URL(url);
  if (!u.pathname.startsWith('/watch/')) return url;
  u.searchParams.set(key, value);
  return u.toString();
}

/** In-page: document.visibilityState and .hidden report `hidden`, and visibilitychange fires. */
const VISIBILITY_OVERRIDE = `(hidden) => {
  if (hidden) {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
  } else {
    delete document.visibilityState;
    delete document.hidden;
  }
  document.dispatchEvent(new Event('visibilitychange'));
}`;

const once = (f: () => Promise<void>): (() => Promise<void>) => {
  let p: Promise<void> | undefined;
  return () => (p ??= f());
};

export async function openEngine(name: EngineName): Promise<Engine> {
  switch (name) {
    case 'chromium': return chromiumEngine();
    case 'firefox': return firefoxEngine();
    case 'webkit': return webkitEngine(name, (u) => u);
    // ManagedMediaSource even where MediaSource exists: the iPhone's MSE path, in desktop WebKit.
    case 'webkit-managed': return webkitEngine(name, (u) => withQuery(u, 'mse', 'managed'));
  }
}

async function chromiumEngine(): Promise<Engine> {
  const browser: PwBrowser = await launchChromium();
  const close = once(() => browser.close());
  try {
    const page: PwPage = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    return {
      name: 'chromium',
      goto: async (url) => { await page.goto(url); },
      evaluate: <T>(js: string) => page.evaluate(js) as Promise<T>,
      addInitScript: async (js) => { await page.addInitScript({ content: js }); },
      // Playwright keeps every Chromium page visible (its focus emulation; no API to hide one,
      // microsoft/playwright#2286). Minimizing the window does stop Chromium presenting frames,
      // as in a background tab; the document's visibility is then overridden in the page.
      setHidden: async (hidden) => {
        const { windowId } = await cdp.send('Browser.getWindowForTarget');
        await cdp.send('Browser.setWindowBounds', { windowId, bounds: { windowState: hidden ? 'minimized' : 'normal' } });
        await page.evaluate(`(${VISIBILITY_OVERRIDE})(${hidden})`);
      },
      hiddenBy: 'window minimized over CDP (frames stop being presented) and document.visibilityState overridden in the page',
      screenshot: () => page.screenshot(),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

async function firefoxEngine(): Promise<Engine> {
  const browser: PpBrowser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    // Muted autoplay is refused under automation without the first; the second keeps
    // requestVideoFrameCallback's times precise enough to read frame timing.
    extraPrefsFirefox: { 'media.autoplay.default': 0, 'privacy.reduceTimerPrecision': false },
  });
  const close = once(() => browser.close());
  try {
    const page: PpPage = (await browser.pages())[0] ?? await browser.newPage();
    let other: PpPage | undefined;
    return {
      name: 'firefox',
      goto: async (url) => { await page.goto(url); },
      evaluate: <T>(js: string) => page.evaluate(js) as Promise<T>,
      addInitScript: async (js) => { await page.evaluateOnNewDocument(js); },
      // A real tab switch: another tab in front makes this one hidden.
      setHidden: async (hidden) => {
        if (hidden) {
          other ??= await browser.newPage();
          await other.bringToFront();
        } else {
          await page.bringToFront();
        }
      },
      hiddenBy: 'another tab brought to the front, then this one',
      screenshot: async () => Buffer.from(await page.screenshot()),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

async function webkitEngine(name: EngineName, rewrite: (url: string) => string): Promise<Engine> {
  const s: WebKitSession = await openWebKit();
  return {
    name,
    goto: (url) => s.navigate(rewrite(url)),
    evaluate: (js) => s.evaluate(js),
    // Iconifying the window under Xvfb makes WebKitGTK hide the page, as a minimized browser would.
    setHidden: async (hidden) => {
      if (hidden) await s.command('POST', '/window/minimize', {});
      else await s.command('POST', '/window/maximize', {});
    },
    hiddenBy: 'window minimized, then maximized (W3C WebDriver)',
    screenshot: () => s.screenshot(),
    close: () => s.close(),
  };
}
