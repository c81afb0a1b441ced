/**
 * Where the relay is, from configuration only: the build-time `VITE_VALV_RELAY_URL`, else the
 * server's `/config.json`, else port 8080 on this page's own host. Never from the page's URL:
 * a link with `?relay=` must not be able to send a user's session to another server.
 */
export async function relayUrl(): Promise<string> {
  const built = (import.meta as { env?: Record<string, string | undefined> }).env
    ?.VITE_VALV_RELAY_URL
  if (built) return built
  try {
    const res = await fetch('/config.json', { cache: 'no-store' })
    if (res.ok) {
      const body = (await res.json()) as { relayUrl?: unknown }
      if (typeof body.relayUrl === 'string') return body.relayUrl
    }
  } catch {
    // No config endpoint (plain `vite` dev server): fall through to the default.
  }
  return `ws://${location.hostname}:8080`
}
