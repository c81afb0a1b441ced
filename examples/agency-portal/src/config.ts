/** Where the relay is: `?relay=` wins, then the server's `/config.json`, then port 8080 here. */
export async function relayUrl(): Promise<string> {
  const fromQuery = new URLSearchParams(location.search).get('relay')
  if (fromQuery) return fromQuery
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
