import type { Plugin } from 'vite'

/**
 * The Content-Security-Policy of the examples. Scripts come only from the page's own origin (no
 * inline script, no `eval`), the page may connect only to itself and to the relay, and nothing
 * may frame it. Served as a header by `vite` and `vite preview`, and written into the built
 * `index.html` as a `<meta>` tag, so any static server that serves `dist/` enforces it too.
 */
export interface CspOptions {
  /** WebSocket origins of the relay(s) the page may connect to. */
  readonly relays: readonly string[]
}

/**
 * Where the relay may be, from the same configuration the examples read: `VALV_CSP_RELAYS`
 * (space-separated origins, for a build that finds its relay in `/config.json`), else the
 * build-time `VITE_VALV_RELAY_URL` when it is set (exactly that origin), else a relay on loopback at any
 * port (`npm start`, `vite`, the tests), plus `VALV_HOST:VALV_RELAY_PORT` when `npm start`
 * serves on another address (`VALV_HOST=0.0.0.0`: that port on whatever host the page is on).
 */
export function relaySources(env: Record<string, string | undefined>): string[] {
  const listed = env.VALV_CSP_RELAYS?.split(/\s+/).filter(Boolean)
  if (listed?.length) return listed.map((u) => new URL(u).origin)
  const configured = env.VITE_VALV_RELAY_URL
  if (configured) return [new URL(configured).origin]
  // No `[::1]`: Chromium rejects IPv6 literals in a source list (and says so on the console).
  const sources = ['ws://127.0.0.1:*', 'ws://localhost:*']
  const host = env.VALV_HOST
  const port = env.VALV_RELAY_PORT ?? '8080'
  if (host === '0.0.0.0' || host === '::') sources.push(`ws://*:${port}`)
  else if (host && !['127.0.0.1', 'localhost', '::1'].includes(host) && !host.includes(':')) {
    sources.push(`ws://${host}:${port}`)
  }
  return sources
}

/**
 * The policy text. `dev` allows inline `<style>` elements, which the Vite dev server uses to
 * inject CSS; a build links its CSS. Style *attributes* stay allowed in both: the cursor
 * plugins of y-prosemirror and Tiptap colour remote cursors with `style="…"`, and an inline
 * style cannot run code. `frame-ancestors` only works in a header, so `meta` leaves it out
 * (Chromium reports it as an error otherwise).
 */
export function contentSecurityPolicy(
  { relays }: CspOptions,
  { dev = false, meta = false }: { dev?: boolean; meta?: boolean } = {},
): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self'${dev ? " 'unsafe-inline'" : ''}`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    `connect-src 'self' ${relays.join(' ')}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    ...(meta ? [] : ["frame-ancestors 'none'"]),
  ].join('; ')
}

/** A Vite plugin that applies {@link contentSecurityPolicy} to `vite`, `vite preview` and builds. */
export function cspPlugin(options: CspOptions): Plugin {
  return {
    name: 'valv-content-security-policy',
    config: () => ({
      server: {
        headers: { 'Content-Security-Policy': contentSecurityPolicy(options, { dev: true }) },
      },
      preview: { headers: { 'Content-Security-Policy': contentSecurityPolicy(options) } },
    }),
    transformIndexHtml: {
      order: 'pre',
      handler(_html, ctx) {
        if (ctx.server) return [] // the dev server sends the header (with inline styles allowed)
        return [
          {
            tag: 'meta',
            attrs: {
              'http-equiv': 'Content-Security-Policy',
              content: contentSecurityPolicy(options, { meta: true }),
            },
            injectTo: 'head-prepend',
          },
        ]
      },
    },
  }
}
