/** Fuzzing the structural decoders (no signature or KDF per input): 20,000 inputs each. */
import { describe } from 'vitest'
import { campaign } from './campaign.js'

describe('fuzz: decoders', () => {
  campaign([
    'frame',
    'envelope-decode',
    'membership-entry',
    'snapshot-body',
    'heads',
    'presence',
    'invite-link',
  ])
})
