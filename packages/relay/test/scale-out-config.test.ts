import { MemoryStorageAdapter } from '@valv/storage-memory'
import { describe, expect, it } from 'vitest'
import { parseCli } from '../src/cli-options.js'
import type { ClusterBus } from '../src/cluster.js'
import { defaultVerifier } from '../src/protocol-verifier.js'
import { Relay } from '../src/relay.js'
import { s3Options } from '../src/storage-url.js'

const bus: ClusterBus = {
  nodeId: 'n1',
  join: async () => undefined,
  leave: async () => undefined,
  publish: () => undefined,
  onResync: () => undefined,
  close: async () => undefined,
}

describe('scale-out configuration', () => {
  it('reads --redis, --redis-prefix and --node-id from flags or VALV_RELAY_*', () => {
    const s = parseCli(['--redis', 'redis://r:6379', '--node-id', 'a'], {
      VALV_RELAY_REDIS: 'redis://ignored',
      VALV_RELAY_REDIS_PREFIX: 'tenant1:',
    })
    expect(s).toMatchObject({ redis: 'redis://r:6379', redisPrefix: 'tenant1:', nodeId: 'a' })
    expect(parseCli([], {}).redis).toBeUndefined()
    expect(parseCli(['--cluster-poll-ms', '250'], {}).clusterPollMs).toBe(250)
    expect(parseCli([], { VALV_RELAY_CLUSTER_POLL_MS: '0' }).clusterPollMs).toBe(0)
    expect(parseCli([], {}).clusterPollMs).toBeUndefined()
    expect(() => parseCli(['--cluster-poll-ms', '-1'], {})).toThrow(/cluster-poll-ms/)
  })

  it('parses s3:// URLs and keeps credentials out of them', () => {
    expect(s3Options('s3://valv-prod/tenant-a?endpoint=http://127.0.0.1:9000&region=se')).toEqual({
      bucket: 'valv-prod',
      prefix: 'tenant-a/',
      endpoint: 'http://127.0.0.1:9000',
      region: 'se',
      forcePathStyle: true,
    })
    expect(s3Options('s3://b')).toEqual({ bucket: 'b', prefix: '', forcePathStyle: false })
    for (const bad of ['s3://key:secret@b/p', 's3://b/p?acl=public', 's3:///p']) {
      expect(() => s3Options(bad)).toThrowError(expect.objectContaining({ code: 'invalid-option' }))
    }
  })

  it('refuses a cluster on storage that cannot append atomically', () => {
    const storage = Object.assign(new MemoryStorageAdapter(), { create: undefined })
    expect(() => new Relay({ storage, verifier: defaultVerifier(), cluster: bus })).toThrowError(
      expect.objectContaining({ code: 'invalid-option' }),
    )
  })
})
