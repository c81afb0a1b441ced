/**
 * Seeded fault injection, the bounded CI version (one run per durable backend). The seed is
 * printed; `VALV_SEED=<n>` replays the same fault decisions. The long campaign is
 * `npm run endurance -- --runs 1000`.
 */

import { cleanup } from '@valv/test-utils/stack'
import { afterEach, describe, expect, it } from 'vitest'
import { type Backend, faultRun } from './fault-run.js'
import { seedFromEnv } from './seed.js'

afterEach(cleanup)

const POSTGRES = 'postgres://root@127.0.0.1:5432/test'

describe('seeded fault injection: chaos proxy, relay SIGKILL and restart', () => {
  for (const backend of ['fs', 'sqlite', 'postgres'] as Backend[]) {
    it(`${backend}: replicas converge, every edit exactly once, relay recovers`, async () => {
      const seed = seedFromEnv(`faults ${backend}`)
      const r = await faultRun({ seed, backend, postgres: POSTGRES, durationMs: 3000 })
      console.log(JSON.stringify(r))
      expect(r.edits).toBeGreaterThan(0)
      expect(r.frames).toBeGreaterThan(r.edits)
    }, 90_000)
  }
})
