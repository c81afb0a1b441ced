import { DocumentSession, Identity } from '@valv/crypto'
import { cleanup, startRelayProcess, startStack } from '@valv/test-utils/stack'
import { afterEach, describe, expect, it } from 'vitest'

afterEach(cleanup)

describe('attack harness', () => {
  it('runs real sessions through the real relay, and the relay CLI as a process', async () => {
    const s = await startStack()
    const anna = await Identity.create({ displayName: 'Anna' })
    const doc = await DocumentSession.create(anna)
    const p = await s.connect(doc)
    p.doc.getText('t').insert(0, 'hej')
    const proc = await startRelayProcess()
    expect(await proc.health()).toBe(200)
    expect(proc.alive()).toBe(true)
  })
})
