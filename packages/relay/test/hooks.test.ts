import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TestClient } from '@valv/test-utils/relay'
import { CloseCode, WIRE_VERSION } from '@valv/wire'
import { describe, expect, it } from 'vitest'
import type { RelayExtension } from '../src/hooks.js'
import { verifyWebhook, webhookExtension } from '../src/webhook.js'
import { setupMembers, startRelay, track, write } from './setup.js'

describe('relay hooks', () => {
  it('runs hooks in priority order; an onAuthenticate veto closes with 4401', async () => {
    const order: string[] = []
    const extensions: RelayExtension[] = [
      { priority: 1, onAuthenticate: () => void order.push('low') },
      {
        priority: 10,
        onAuthenticate({ token, context }) {
          order.push('high')
          if (token !== 'good') throw new Error('bad token')
          context.user = 'alice'
        },
      },
    ]
    const h = await startRelay({ extensions })
    const ok = await h.client(['doc'], 'good')
    expect(order).toEqual(['high', 'low'])
    expect(ok.closeCode).toBeUndefined()
    const bad = track(await TestClient.connect(h.url))
    bad.send({ type: 'auth', version: WIRE_VERSION, token: 'forged' })
    expect(await bad.closed()).toBe(CloseCode.Unauthenticated)
    expect(order).toEqual(['high', 'low', 'high'])
  })

  it('onAuthorize vetoes one document without closing the connection', async () => {
    const h = await startRelay({
      extensions: [
        {
          onAuthorize({ docId }) {
            if (docId === 'secret') throw new Error('no')
          },
        },
      ],
    })
    const c = await h.client(['open'])
    c.send({ type: 'subscribe', docId: 'secret', sinceSeq: 0, snapshotSeq: 0, membershipFrom: 0 })
    expect(await c.next((f) => f.type === 'error')).toMatchObject({
      docId: 'secret',
      code: 'unauthorized',
    })
    c.send({ type: 'envelope', docId: 'secret', ref: 3, envelope: new Uint8Array(200) })
    expect(await c.next((f) => f.type === 'error')).toMatchObject({ code: 'not-subscribed' })
    expect(c.closeCode).toBeUndefined()
  })

  it('revoke closes matching live sessions at once with 4403 and leaves others', async () => {
    const h = await startRelay({
      extensions: [
        {
          onAuthenticate({ token, context }) {
            context.user = token
          },
        },
      ],
    })
    const mallory = await h.client(['doc'], 'mallory')
    const alice = await h.client(['doc'], 'alice')
    expect(h.relay.revoke((s) => s.context.user === 'mallory')).toBe(1)
    expect(await mallory.closed()).toBe(CloseCode.Revoked)
    alice.send({ type: 'ping', nonce: 1 })
    expect(await alice.next((f) => f.type === 'pong')).toBeTruthy()
  })

  it('sends content-free, HMAC-signed change webhooks an integrator can verify', async () => {
    const received: { body: string; sig: string | undefined }[] = []
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (d) => {
        body += d
      })
      req.on('end', () => {
        received.push({ body, sig: req.headers['x-valv-signature'] as string | undefined })
        res.end()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
    try {
      const h = await startRelay({ extensions: [webhookExtension({ url, secret: 's3cret' })] })
      const c = await h.client()
      const cast = await setupMembers(c)
      const canary = new TextEncoder().encode('CANARY-webhook')
      expect(await write(c, cast.editor, 1, canary)).toBe(1)
      const expected = cast.shared.chain().length + 1 // every membership entry + 1 update
      for (let i = 0; i < 100 && received.length < expected; i++)
        await new Promise((r) => setTimeout(r, 10))
      expect(received).toHaveLength(expected)
      const last = received.find((r) => JSON.parse(r.body).kind === 'update')
      expect(last).toBeDefined()
      const { body, sig } = last as { body: string; sig: string }
      expect(verifyWebhook('s3cret', body, sig)).toBe(true)
      expect(verifyWebhook('wrong', body, sig)).toBe(false)
      expect(verifyWebhook('s3cret', body.replace('"seq":1', '"seq":2'), sig)).toBe(false)
      expect(Object.keys(JSON.parse(body)).sort()).toEqual(['at', 'docId', 'kind', 'seq'])
      expect(body).not.toContain('CANARY')
    } finally {
      server.close()
    }
  })
})
