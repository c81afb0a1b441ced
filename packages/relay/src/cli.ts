#!/usr/bin/env node
import { readFile } from 'node:fs/promises'
import { routeStorage } from '@valv/storage'
import { parseCli, USAGE } from './cli-options.js'
import { RelayConfigError } from './errors.js'
import type { RelayExtension } from './hooks.js'
import { jsonLogger } from './logger.js'
import { defaultVerifier } from './protocol-verifier.js'
import { RedisBus } from './redis-bus.js'
import { Relay } from './relay.js'
import { checkResidency } from './residency.js'
import { openStorage } from './storage-url.js'
import { webhookExtension } from './webhook.js'

async function main(): Promise<void> {
  const settings = parseCli(process.argv.slice(2), process.env)
  if (settings.help) {
    process.stdout.write(USAGE)
    return
  }
  const extensions: RelayExtension[] = []
  if (settings.webhookUrl) {
    if (!settings.webhookSecret) {
      throw new RelayConfigError('invalid-option', '--webhook-url needs --webhook-secret')
    }
    extensions.push(
      webhookExtension({
        url: settings.webhookUrl,
        secret: settings.webhookSecret,
        logger: jsonLogger,
      }),
    )
  }
  const cluster =
    settings.redis === undefined
      ? undefined
      : await RedisBus.connect({
          url: settings.redis,
          ...(settings.redisPrefix === undefined ? {} : { prefix: settings.redisPrefix }),
          ...(settings.nodeId === undefined ? {} : { nodeId: settings.nodeId }),
          onError: (err) =>
            jsonLogger({
              level: 'warn',
              event: 'redis-error',
              error: err instanceof Error ? err.name : 'unknown',
            }),
        })
  // Residency first: nothing is opened in a location that is not allowed.
  const allowed = settings.allowedLocations
  const location = allowed === undefined ? undefined : checkResidency(settings.storage, allowed)
  const blobLocation =
    allowed === undefined || settings.blobStorage === undefined
      ? undefined
      : checkResidency(settings.blobStorage, allowed)
  const auditKey =
    settings.auditKeyFile === undefined ? undefined : await readAuditKey(settings.auditKeyFile)
  const relay = new Relay({
    storage:
      settings.blobStorage === undefined
        ? await openStorage(settings.storage)
        : routeStorage({
            default: await openStorage(settings.storage),
            blobs: await openStorage(settings.blobStorage),
          }),
    verifier: defaultVerifier(
      settings.verifierCacheBytes === undefined ? {} : { cacheBytes: settings.verifierCacheBytes },
    ),
    extensions,
    limits: settings.limits,
    ...(settings.allowedOrigins ? { allowedOrigins: settings.allowedOrigins } : {}),
    logger: jsonLogger,
    ...(cluster ? { cluster } : {}),
    ...(location === undefined || allowed === undefined
      ? {}
      : {
          residency: { location, allowed, ...(blobLocation === undefined ? {} : { blobLocation }) },
        }),
    ...(auditKey === undefined ? {} : { audit: { key: auditKey } }),
    ...(settings.clusterPollMs === undefined ? {} : { clusterPollMs: settings.clusterPollMs }),
  })
  await relay.listen(settings.port, settings.host)
  const stop = (signal: string) => {
    jsonLogger({ level: 'info', event: 'shutdown', signal })
    relay.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}

async function readAuditKey(path: string): Promise<Uint8Array> {
  const hex = (await readFile(path, 'utf8')).trim()
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new RelayConfigError('invalid-option', '--audit-key-file must hold 64 hex digits')
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

main().catch((err: unknown) => {
  const code = err instanceof RelayConfigError ? err.code : 'startup-failed'
  const message = err instanceof Error ? err.message : 'unknown'
  jsonLogger({ level: 'error', event: 'fatal', code, message })
  process.exit(2)
})
