import { createHmac, timingSafeEqual } from 'node:crypto'
import type { ChangePayload, RelayExtension } from './hooks.js'
import type { RelayLogger } from './logger.js'

/** Options of {@link webhookExtension}. */
export interface WebhookOptions {
  /** Endpoint that receives `POST` JSON `{ docId, kind, seq, at }`. */
  readonly url: string
  /** Shared HMAC-SHA256 secret; the receiver checks `x-valv-signature` with it. */
  readonly secret: string
  /** Run before other extensions? Default 0 (after them). */
  readonly priority?: number
  /** Where delivery failures are logged (content-free). */
  readonly logger?: RelayLogger
}

/** The header value for `body`: `t=<unix ms>,v1=<hex hmac-sha256(secret, t + "." + body)>`. */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
  return `t=${timestamp},v1=${mac}`
}

/**
 * Check a webhook request on the receiving side: signature valid and timestamp within
 * `toleranceMs` of now (stops replays of old notifications).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * const secret = process.env.VALV_WEBHOOK_SECRET ?? ''
 * createServer(async (req, res) => {
 *   let body = ''
 *   for await (const chunk of req) body += chunk
 *   const signature = req.headers['x-valv-signature']
 *   const ok = verifyWebhook(secret, body, typeof signature === 'string' ? signature : undefined)
 *   res.writeHead(ok ? 204 : 401).end()
 * })
 * ```
 */
export function verifyWebhook(
  secret: string,
  body: string,
  header: string | undefined,
  toleranceMs = 5 * 60_000,
  now = Date.now(),
): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '')
  if (!m) return false
  const t = Number(m[1])
  if (Math.abs(now - t) > toleranceMs) return false
  const expected = Buffer.from(signWebhook(secret, body, t).slice(-64), 'hex')
  return timingSafeEqual(expected, Buffer.from(m[2] as string, 'hex'))
}

/**
 * An extension that tells an integrator's backend "document X changed" without any content:
 * the body holds the document id, the kind of change and its sequence number only.
 *
 * @example
 * ```ts
 * const secret = process.env.VALV_WEBHOOK_SECRET ?? ''
 * new Relay({
 *   storage,
 *   verifier: defaultVerifier(),
 *   extensions: [webhookExtension({ url, secret })],
 * })
 * ```
 */
export function webhookExtension(options: WebhookOptions): RelayExtension {
  return {
    priority: options.priority ?? 0,
    onChange(change: ChangePayload) {
      const body = JSON.stringify({
        docId: change.docId,
        kind: change.kind,
        seq: change.seq,
        at: Date.now(),
      })
      const signature = signWebhook(options.secret, body, Date.now())
      // Fire and forget: a slow backend must not delay acks.
      fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-valv-signature': signature },
        body,
      }).catch(() => {
        options.logger?.({ level: 'warn', event: 'webhook-failed', docId: change.docId })
      })
    },
  }
}
