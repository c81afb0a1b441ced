/**
 * Helpers for scale-out attack tests: relay nodes sharing a fresh PostgreSQL schema (real
 * PostgreSQL) and a Redis channel prefix (real Redis), raw subscribers on them, and checks on
 * the stored log.
 */
import { randomBytes } from 'node:crypto'
import { RedisBus, type RelayLimits } from '@valv/relay'
import { DocumentStore } from '@valv/storage'
import { PostgresStorageAdapter } from '@valv/storage-postgres'
import { onCleanup, RawClient, type Stack, startStack } from '@valv/test-utils/stack'
import type { Frame } from '@valv/wire'
import { expect } from 'vitest'
import {
  dropSchema,
  freshSchema,
  testConnectionString,
} from '../../packages/storage-postgres/test/helpers.js'

/** The machine's shared Redis (fan-out only; each test uses its own channel prefix). */
export const REDIS = 'redis://127.0.0.1:6379'

/** A fresh PostgreSQL schema and Redis channel prefix, dropped after the test. */
export async function shared() {
  const pg = await testConnectionString()
  const schema = freshSchema()
  onCleanup(() => dropSchema(pg, schema))
  const setup = new PostgresStorageAdapter({ connectionString: pg, schema })
  await setup.migrate()
  await setup.close()
  const prefix = `valv-test-${randomBytes(5).toString('hex')}:`
  return {
    pg,
    schema,
    prefix,
    /** The store as an operator would inspect it. */
    store(): DocumentStore {
      const adapter = new PostgresStorageAdapter({ connectionString: pg, schema })
      onCleanup(() => adapter.close())
      return new DocumentStore(adapter)
    },
  }
}

/** How {@link nodes} starts its relays. */
export interface NodeOptions {
  /** Each node on its own channel prefix: no fan-out reaches another node. */
  readonly partitioned?: boolean
  /** The Redis URL (default the machine's shared Redis). */
  readonly redis?: string
  readonly limits?: Partial<RelayLimits>
  /** See `RelayOptions.clusterPollMs` (default: the relay's). */
  readonly clusterPollMs?: number
  /** The relays' audit trail (`RelayOptions.audit`; needed for erasure). */
  readonly audit?: { readonly key: Uint8Array }
}

/**
 * `n` in-process relays on one PostgreSQL schema and one Redis prefix (`partitioned`: each on
 * its own prefix, so no fan-out reaches another node, as if Redis lost every message).
 */
export async function nodes(
  n: number,
  { partitioned = false, redis = REDIS, limits, clusterPollMs, audit }: NodeOptions = {},
) {
  const env = await shared()
  const stacks: Stack[] = []
  for (let i = 0; i < n; i++) {
    const prefix = partitioned ? `${env.prefix}${i}:` : env.prefix
    const cluster = await RedisBus.connect({ url: redis, prefix, nodeId: `node-${i}` })
    const storage = new PostgresStorageAdapter({ connectionString: env.pg, schema: env.schema })
    stacks.push(
      await startStack({
        storage,
        cluster,
        ...(limits ? { limits } : {}),
        ...(audit ? { audit } : {}),
        ...(clusterPollMs === undefined ? {} : { clusterPollMs }),
      }),
    )
  }
  return { ...env, stacks }
}

/** `raw` authenticated and subscribed to `docId` from the start, synced. */
export async function subscribed(raw: RawClient, docId: string): Promise<RawClient> {
  return (await raw.auth()).subscribe(docId)
}

/** A raw client on `url`, subscribed to `docId`. */
export async function rawOn(url: string, docId: string): Promise<RawClient> {
  return subscribed(await RawClient.open(url), docId)
}

/** Matches the `ack` or `error` answering `ref`. */
export const answerTo = (ref: number) => (f: Frame) =>
  (f.type === 'ack' || f.type === 'error') && 'ref' in f && f.ref === ref

/** The stored log of `docId`. */
export async function logOf(store: DocumentStore, docId: string) {
  const out: { seq: number; bytes: Uint8Array }[] = []
  for await (const e of store.readLog(docId)) out.push(e)
  return out
}

/** The log is `1..n` without gaps, and no envelope is stored twice. */
export function expectGapFreeUnique(log: { seq: number; bytes: Uint8Array }[]) {
  expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1))
  const distinct = new Set(log.map((e) => Buffer.from(e.bytes).toString('base64')))
  expect(distinct.size).toBe(log.length)
}
