/**
 * Real headless Chromium for the tests (Debian's `chromium`, driven by `playwright-core`).
 * One place for the path and flags: this machine's network is closed, so without the
 * background-networking flags Chromium keeps retrying Google's hosts at every start.
 */
import { type Browser, type BrowserContext, chromium } from 'playwright-core'

/** Where Debian installs Chromium (`.ci/ensure-env.mjs` installs it when missing). */
export const CHROMIUM_PATH = '/usr/bin/chromium'

/** The flags every test browser starts with (root in CI, so no sandbox). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** A fresh headless Chromium; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] })
}

/**
 * Chromium with a profile directory that outlives the browser (IndexedDB, storage at rest):
 * closing and relaunching on the same `profile` is a browser restart.
 */
export function launchPersistentChromium(profile: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS],
  })
}
