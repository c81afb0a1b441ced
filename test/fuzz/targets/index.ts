/** Every fuzz target, by name, built from the shared fixture. */
import type { Target } from '../driver.js'
import { fixture } from '../fixtures.js'
import { admissionTarget } from './admission.js'
import { blobTarget } from './blob.js'
import { envelopeDecodeTarget, envelopeOpenTarget, envelopeVerifyTarget } from './envelope.js'
import { frameTarget } from './frame.js'
import { identityPlaintextTarget, identityTarget } from './identity.js'
import { chainAppendTarget, entryDecodeTarget } from './membership.js'
import { headsTarget, presenceTarget, snapshotTarget } from './plaintext.js'
import { stampTarget } from './stamps.js'
import { cardTarget, inviteTarget } from './text.js'

/** Target builders in campaign order. */
export const TARGETS: Record<string, () => Target | Promise<Target>> = {
  frame: frameTarget,
  'envelope-decode': async () => envelopeDecodeTarget(await fixture()),
  'envelope-verify': async () => envelopeVerifyTarget(await fixture()),
  'envelope-open': async () => envelopeOpenTarget(await fixture()),
  'membership-entry': async () => entryDecodeTarget(await fixture()),
  'chain-append': async () => chainAppendTarget(await fixture()),
  admission: admissionTarget,
  'snapshot-body': snapshotTarget,
  heads: headsTarget,
  presence: presenceTarget,
  'invite-link': async () => inviteTarget(await fixture()),
  'public-card': async () => cardTarget(await fixture()),
  'identity-import': async () => identityTarget(await fixture()),
  'identity-plaintext': async () => identityPlaintextTarget(await fixture()),
  'blob-stream': blobTarget,
  'member-stamps': async () => stampTarget(await fixture()),
}
