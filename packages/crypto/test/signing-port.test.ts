import { ed25519 } from '@noble/curves/ed25519.js'
import { domainMessage, toHex, utf8, verifyEraseRequest } from '@valv/protocol'
import { LocalRelay } from '@valv/test-utils'
import { describe, expect, it } from 'vitest'
import { documentSigningSecret } from '../src/identity.js'
import {
  DocumentSession,
  documentAuditSigner,
  Identity,
  PublicCard,
  RecoveryKey,
  Role,
  signEraseRequest,
} from '../src/index.js'
import { codeOf } from './code-of.js'

async function team() {
  const relay = new LocalRelay()
  const anna = await Identity.create({ displayName: 'Anna' })
  const bo = await Identity.create({ displayName: 'Bo' })
  const admin = await DocumentSession.create(anna)
  await relay.connect(admin)
  await admin.share(PublicCard.parse(bo.card.toString()), Role.Editor)
  const editor = await DocumentSession.open(bo, admin.docId)
  await relay.connect(editor)
  await editor.joined()
  return { relay, bo, admin, editor }
}

// The signers reach the session's key through a port (signing-port.ts), not by reading it:
// these pin that what they sign is byte for byte what verifiers have always checked.
describe('signing through the session port', () => {
  it('audit signatures are Ed25519 over domain "audit" by the per-document key', async () => {
    const { bo, admin, editor } = await team()
    const parts = [utf8('record'), new Uint8Array([1, 2, 3])]
    for (const session of [admin, editor]) {
      const signer = documentAuditSigner(session)
      expect(toHex(signer.publicKey)).toBe(session.author)
      const signature = await signer.signAudit(...parts)
      expect(ed25519.verify(signature, domainMessage('audit', ...parts), signer.publicKey)).toBe(
        true,
      )
    }
    // A joiner's key is derived from the document id: the same bytes as signing with it.
    const secret = documentSigningSecret(bo, admin.docId)
    expect(await documentAuditSigner(editor).signAudit(...parts)).toEqual(
      ed25519.sign(domainMessage('audit', ...parts), secret),
    )
  })

  it("an admin's erase request verifies against the chain; an editor's is refused early", async () => {
    const { relay, admin, editor } = await team()
    const fields = { sessionId: 'relay-session-1', chainLength: admin.membershipLength() }
    const request = await signEraseRequest(admin, fields)
    const state = relay.chains.get(admin.docId)?.state
    expect(state).toBeDefined()
    if (state === undefined) return
    const verified = await verifyEraseRequest(state, request, fields.sessionId)
    expect(verified.authorId).toBe(admin.author)
    expect(await codeOf(signEraseRequest(editor, fields))).toBe('invalid-state')
  })

  it('a recovery session, or anything that is not a session, has no port', async () => {
    const { admin } = await team()
    const recovery = await DocumentSession.recover(RecoveryKey.generate(), admin.docId)
    expect(await codeOf(() => documentAuditSigner(recovery))).toBe('invalid-state')
    const fields = { sessionId: 's', chainLength: 1 }
    expect(await codeOf(signEraseRequest(recovery, fields))).toBe('invalid-state')
    const impostor = { docId: admin.docId, myIndex: 0, role: Role.Admin } as DocumentSession
    expect(await codeOf(() => documentAuditSigner(impostor))).toBe('invalid-state')
    expect(await codeOf(signEraseRequest(impostor, fields))).toBe('invalid-state')
  })
})
