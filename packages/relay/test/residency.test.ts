import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { parseCli } from '../src/cli-options.js'
import { RelayConfigError } from '../src/errors.js'
import { checkResidency, locationAllowed, storageLocation } from '../src/residency.js'
import { startRelay } from './setup.js'

/** Run the CLI until it listens or exits; its JSON log lines. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn('node_modules/.bin/tsx', ['packages/relay/src/cli.ts', ...args], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, ...env },
  })
  const lines: Record<string, unknown>[] = []
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve))
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    const rec = JSON.parse(line) as Record<string, unknown>
    lines.push(rec)
    if (rec.event === 'listening') break
  }
  return { child, lines, exit }
}

describe('data residency', () => {
  it('names where each storage URL keeps data', () => {
    expect(storageLocation('memory:', {})).toBe('memory')
    expect(storageLocation('fs:./data', {})).toBe('fs')
    expect(storageLocation('sqlite:./v.db', {})).toBe('sqlite')
    expect(storageLocation('postgres://valv@DB.sthlm.internal:5432/valv', {})).toBe(
      'postgres:db.sthlm.internal',
    )
    expect(storageLocation('postgres:///valv', { PGHOST: 'pg.gbg.internal' })).toBe(
      'postgres:pg.gbg.internal',
    )
    expect(storageLocation('postgres:///valv', {})).toBe('postgres:localhost')
    expect(storageLocation('s3://arkiv/p?region=eu-north-1', {})).toBe('s3:aws:eu-north-1')
    expect(storageLocation('s3://arkiv', { AWS_REGION: 'us-east-1' })).toBe('s3:aws:us-east-1')
    expect(
      storageLocation('s3://arkiv?endpoint=https://s3.sto.example.se:9000&region=sto1', {}),
    ).toBe('s3:s3.sto.example.se:sto1')
  })

  it('allows exact locations and patterns within one part; everything else is refused', () => {
    expect(locationAllowed('s3:aws:eu-north-1', ['s3:aws:eu-*'])).toBe(true)
    expect(locationAllowed('s3:aws:us-east-1', ['s3:aws:eu-*'])).toBe(false)
    // `*` does not cross a part: a region cannot pose as an endpoint.
    expect(locationAllowed('s3:evil.example.com:eu-north-1', ['s3:*.se:*'])).toBe(false)
    expect(locationAllowed('s3:s3.sto.example.se:sto1', ['s3:*.se:*'])).toBe(true)
    expect(locationAllowed('postgres:db.sthlm.internal', ['postgres:*.sthlm.internal'])).toBe(true)
    expect(
      locationAllowed('postgres:db.sthlm.internal.evil.com', ['postgres:*.sthlm.internal']),
    ).toBe(false)
    expect(locationAllowed('fs', [])).toBe(false)
    const err = (() => {
      try {
        checkResidency('s3://arkiv?region=us-east-1', ['s3:aws:eu-north-1'], {})
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(RelayConfigError)
    expect(err).toMatchObject({ code: 'residency' })
    expect((err as Error).message).toContain('s3:aws:us-east-1')
  })

  it('the relay refuses to start outside the allowed locations and reports the location at /metrics', async () => {
    const refused = await cli([
      '--port',
      '0',
      '--storage',
      's3://arkiv?region=us-east-1',
      '--allowed-locations',
      's3:aws:eu-north-1,postgres:*.sthlm.internal',
    ])
    expect(await refused.exit).toBe(2)
    const fatal = refused.lines.find((l) => l.event === 'fatal')
    expect(fatal).toMatchObject({ code: 'residency' })
    expect(String(fatal?.message)).toContain('s3:aws:us-east-1')
    expect(refused.lines.some((l) => l.event === 'listening')).toBe(false)

    const ok = await cli(['--port', '0', '--storage', 'memory:', '--allowed-locations', 'memory'])
    try {
      const port = ok.lines.find((l) => l.event === 'listening')?.port
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      expect(metrics).toContain('valv_relay_residency_info{location="memory",allowed="memory"} 1')
    } finally {
      ok.child.kill('SIGTERM')
      await ok.exit
    }
  }, 60_000)

  it('checks and reports the blob storage location too (--blob-storage)', async () => {
    expect(parseCli(['--blob-storage', 's3://files'], {}).blobStorage).toBe('s3://files')
    expect(parseCli([], { VALV_RELAY_BLOB_STORAGE: 's3://f' }).blobStorage).toBe('s3://f')
    expect(parseCli([], {}).blobStorage).toBeUndefined()
    const refused = await cli([
      '--port',
      '0',
      '--storage',
      'memory:',
      '--blob-storage',
      's3://arkiv?region=us-east-1',
      '--allowed-locations',
      'memory,s3:aws:eu-north-1',
    ])
    expect(await refused.exit).toBe(2)
    const fatal = refused.lines.find((l) => l.event === 'fatal')
    expect(fatal).toMatchObject({ code: 'residency' })
    expect(String(fatal?.message)).toContain('s3:aws:us-east-1')
    await expect(
      startRelay({
        residency: { location: 'memory', blobLocation: 's3:aws:us-east-1', allowed: ['memory'] },
      }),
    ).rejects.toMatchObject({ code: 'residency' })
    const ok = await startRelay({
      residency: { location: 'memory', blobLocation: 'fs', allowed: ['memory', 'fs'] },
    })
    const metrics = await (await fetch(`${ok.url.replace('ws', 'http')}/metrics`)).text()
    expect(metrics).toContain(
      'valv_relay_residency_info{location="fs",allowed="memory,fs",store="blobs"} 1',
    )
  }, 60_000)

  it('reads the allowed locations and the audit key file from flags or environment', () => {
    const s = parseCli(['--allowed-locations', 's3:aws:eu-north-1, fs'], {
      VALV_RELAY_AUDIT_KEY_FILE: '/run/secrets/valv-audit',
    })
    expect(s.allowedLocations).toEqual(['s3:aws:eu-north-1', 'fs'])
    expect(s.auditKeyFile).toBe('/run/secrets/valv-audit')
    expect(parseCli([], {}).allowedLocations).toBeUndefined()
  })

  it('the Relay constructor runs the same check', async () => {
    await expect(
      startRelay({ residency: { location: 'postgres:db.us.example.com', allowed: ['memory'] } }),
    ).rejects.toMatchObject({ code: 'residency' })
    const ok = await startRelay({ residency: { location: 'memory', allowed: ['memory', 'fs'] } })
    expect(ok.relay.address().port).toBeGreaterThan(0)
  })
})
