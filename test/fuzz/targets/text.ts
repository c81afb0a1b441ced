/**
 * What people paste or receive: invite links and public cards. Cards are verified on parse, so
 * only the real devices may come out of an accepted card.
 */
import { CryptoError, PublicCard, parseInvite } from '@valv/crypto'
import { equalBytes } from '@valv/protocol'
import fc from 'fast-check'
import { InvariantBroken, type Target } from '../driver.js'
import type { Fixture } from '../fixtures.js'

const utf8 = new TextEncoder()
const text = new TextDecoder()

/** `parseInvite` on links (URL or fragment). */
export function inviteTarget(f: Fixture): Target {
  const fragment = f.invite.slice(f.invite.indexOf('#'))
  const links = [f.invite, `https://portal.example/doc${fragment}`, fragment.slice(1)]
  return {
    name: 'invite-link',
    rejects: [{ error: CryptoError, codes: ['malformed'] }],
    samples: links.map((l) => utf8.encode(l)),
    generate: fc
      .oneof(
        fc.string({ maxLength: 120 }),
        fc
          .tuple(
            fc.string({ maxLength: 50 }),
            fc.string({ maxLength: 10 }),
            fc.string({ maxLength: 50 }),
          )
          .map(([d, i, s]) => `#valv-invite1.${d}.${i}.${s}`),
      )
      .map((s) => utf8.encode(s)),
    run: (input) => parseInvite(text.decode(input)),
    memoryBound: 16 * 2 ** 20,
  }
}

/** `PublicCard.fromBytes` (what `PublicCard.parse` runs after base64url). */
export function cardTarget(f: Fixture): Target {
  const real = f.identity.card
  const bytes = real.toBytes()
  return {
    name: 'public-card',
    rejects: [{ error: CryptoError, codes: ['malformed', 'bad-signature'] }],
    samples: [bytes],
    generate: fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .uint8Array({ minLength: 30, maxLength: 300 })
        .map((tail) => Uint8Array.from([...bytes.subarray(0, 32), ...tail])),
    ),
    run(input) {
      const card = PublicCard.fromBytes(input)
      for (const d of card.devices) {
        const known = real.devices.some(
          (r) =>
            equalBytes(r.signature, d.signature) &&
            equalBytes(r.kemKey, d.kemKey) &&
            r.createdAt === d.createdAt,
        )
        if (!known || !equalBytes(card.userKey, real.userKey)) {
          throw new InvariantBroken('a card with a forged device was accepted')
        }
      }
    },
    memoryBound: 16 * 2 ** 20,
    defaultInputs: {
      count: 10_000,
      why: 'a card that decodes costs a pure-JS Ed25519 verification per device (two here)',
    },
  }
}
