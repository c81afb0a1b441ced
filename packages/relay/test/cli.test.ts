import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { TestClient } from '@valv/test-utils/relay'
import { describe, expect, it } from 'vitest'
import { parseCli } from '../src/cli-options.js'

const TSX = 'node_modules/.bin/tsx'

function run(args: string[]): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(TSX, ['packages/relay/src/cli.ts', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[
    Symbol.asyncIterator
  ]()
  return { child, lines }
}

describe('valv-relay CLI', () => {
  it('parses flags over environment variables and rejects bad numbers', () => {
    const s = parseCli(['--port', '9000', '--max-frame-bytes', '2048'], {
      VALV_RELAY_PORT: '1',
      VALV_RELAY_HOST: '0.0.0.0',
      VALV_RELAY_ALLOWED_ORIGINS: 'https://a.se, https://b.se',
    })
    expect(s).toMatchObject({ port: 9000, host: '0.0.0.0', storage: 'memory:' })
    expect(s.limits).toEqual({ maxFrameBytes: 2048 })
    expect(s.allowedOrigins).toEqual(['https://a.se', 'https://b.se'])
    expect(() => parseCli(['--port', '-1'], {})).toThrowError(
      expect.objectContaining({ code: 'invalid-option' }),
    )
    expect(() => parseCli(['--nope'], {})).toThrowError(
      expect.objectContaining({ code: 'invalid-option' }),
    )
  })

  it('serves /healthz, /metrics and WebSockets, logs JSON and exits 0 on SIGTERM', async () => {
    // The postgres adapter connects lazily; this test never opens a document.
    const { child, lines } = run([
      '--port',
      '0',
      '--storage',
      'postgres://root@127.0.0.1:5432/test',
    ])
    try {
      const first = JSON.parse((await lines.next()).value as string)
      expect(first).toMatchObject({ level: 'info', event: 'listening' })
      const base = `http://127.0.0.1:${first.port}`
      const health = await fetch(`${base}/healthz`)
      expect(health.status).toBe(200)
      const c = await TestClient.ready(`ws://127.0.0.1:${first.port}`, [])
      const metrics = await (await fetch(`${base}/metrics`)).text()
      expect(metrics).toContain('valv_relay_connections 1')
      expect(metrics).toMatch(/# TYPE valv_relay_messages_in_total counter/)
      const exit = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      expect(await c.closed()).toBe(1012)
      expect(await exit).toBe(0)
    } finally {
      child.kill('SIGKILL')
    }
  }, 20_000)

  it('exits 2 with a typed fatal log on an unknown storage URL', async () => {
    const { child, lines } = run(['--port', '0', '--storage', 'ftp://x'])
    const line = JSON.parse((await lines.next()).value as string)
    expect(line).toMatchObject({ level: 'error', event: 'fatal', code: 'unknown-storage' })
    expect(await new Promise((r) => child.once('exit', r))).toBe(2)
  }, 20_000)
})
