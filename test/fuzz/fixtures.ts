/**
 * Valid inputs made by the real client code: a document whose membership chain holds every
 * entry kind (genesis, admit, join, set-role, rotate, revoke-admission), sealed envelopes of
 * each kind a relay stores or forwards, a public card, an identity export, an invite link and
 * an encrypted file. Built once per process; the fuzz targets mutate these.
 */
import { DocumentSession, Identity, Role } from '@valv/crypto'
import { MembershipState } from '@valv/protocol'

/** The real artefacts the targets start from. */
export interface Fixture {
  readonly docId: string
  /** The encoded membership chain, in order. */
  readonly chain: readonly Uint8Array[]
  /** The chain verified, as a relay holds it. */
  readonly state: MembershipState
  /** Sealed envelopes (update and snapshot by the admin, presence by a viewer). */
  readonly envelopes: readonly Uint8Array[]
  /** An admin's session (opens every envelope above). */
  readonly session: DocumentSession
  /** An invite link for the document. */
  readonly invite: string
  /** A member's identity (two devices). */
  readonly identity: Identity
}

function recorder(chain: Uint8Array[]) {
  return {
    async appendMembership(index: number, entry: Uint8Array): Promise<void> {
      if (index !== chain.length) throw new Error(`append at ${index}, chain has ${chain.length}`)
      chain.push(entry)
    },
  }
}

async function catchUp(session: DocumentSession, chain: readonly Uint8Array[]): Promise<void> {
  for (let i = session.membershipLength(); i < chain.length; i++) {
    await session.applyMembership(i, chain[i] as Uint8Array)
  }
}

async function build(): Promise<Fixture> {
  const anna = await Identity.create({ displayName: 'Anna' })
  const bob = await Identity.create({ displayName: 'Bob' })
  await bob.addDevice()
  const chain: Uint8Array[] = []
  const doc = await DocumentSession.create(anna)
  await doc.attach(recorder(chain))
  const link = await doc.createInviteLink({ role: Role.Editor, maxUses: 3 })
  const bobDoc = await DocumentSession.join(bob, link)
  await catchUp(bobDoc, chain)
  await bobDoc.attach(recorder(chain))
  await bobDoc.joined()
  await catchUp(doc, chain)
  await doc.setRole(bob.userId, Role.Viewer)
  await doc.rotate()
  const spare = await doc.createInviteLink({ role: Role.Viewer })
  const spareIndex = Number(spare.split('.')[2])
  await doc.revokeInvite(spareIndex)
  await catchUp(bobDoc, chain)
  const state = new MembershipState(doc.docId)
  for (const e of chain) state.append(e)
  const text = new TextEncoder().encode('Beslut: mötet flyttas till torsdag.')
  const envelopes = [
    await doc.seal('update', text, 1),
    await doc.seal('update', new Uint8Array(300).fill(7), 2),
    await doc.seal('snapshot', text, 0, { upToSeq: 3, prevSeq: 0, prev: new Uint8Array(32) }),
    await doc.seal('presence', text, 4),
    await bobDoc.seal('presence', text, 1),
  ]
  return { docId: doc.docId, chain, state, envelopes, session: doc, invite: link, identity: bob }
}

let built: Promise<Fixture> | undefined

/** The shared fixture (built on first use). */
export function fixture(): Promise<Fixture> {
  built ??= build()
  return built
}
