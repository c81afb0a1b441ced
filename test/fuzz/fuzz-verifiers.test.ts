/** Fuzzing what verifies signatures per input: envelopes, the membership chain, cards. */
import { describe } from 'vitest'
import { campaign } from './campaign.js'

describe('fuzz: verifiers', () => {
  campaign([
    'envelope-verify',
    'envelope-open',
    'chain-append',
    'admission',
    'public-card',
    'member-stamps',
  ])
})
