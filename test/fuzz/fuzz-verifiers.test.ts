/** Fuzzing what verifies signatures or derives keys per input (counts in each target). */
import { describe } from 'vitest'
import { campaign } from './campaign.js'

describe('fuzz: verifiers', () => {
  campaign([
    'envelope-verify',
    'envelope-open',
    'chain-append',
    'admission',
    'public-card',
    'identity-import',
    'identity-plaintext',
  ])
})
