/** Fuzzing what derives a key per input (scrypt), and encrypted files. */
import { describe } from 'vitest'
import { campaign } from './campaign.js'

describe('fuzz: secrets', () => {
  campaign(['identity-import', 'identity-plaintext', 'blob-stream'])
})
