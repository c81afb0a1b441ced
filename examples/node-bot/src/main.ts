// Run the bot: `npm start -w examples/node-bot` with
//   VALV_RELAY_URL      relay to use (default ws://127.0.0.1:8080)
//   VALV_BOT_INVITE     first run only: an invite link to a chat document
//   VALV_BOT_PASSPHRASE protects the bot's identity file (at least 10 characters)
//   VALV_BOT_DATA       folder for the identity, key store and offline queue (default ./bot-data)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Identity } from '@valv/crypto'
import { FsStorageAdapter } from '@valv/storage-fs'
import { startBot } from './bot.js'

const relayUrl = process.env.VALV_RELAY_URL ?? 'ws://127.0.0.1:8080'
const passphrase = process.env.VALV_BOT_PASSPHRASE ?? ''
const dataDir = process.env.VALV_BOT_DATA ?? 'bot-data'
if (passphrase.length < 10) throw new Error('set VALV_BOT_PASSPHRASE (at least 10 characters)')
mkdirSync(dataDir, { recursive: true })

const identityFile = join(dataDir, 'identity.txt')
const docFile = join(dataDir, 'document.txt')
let identity: Identity
if (existsSync(identityFile)) {
  identity = await Identity.import(readFileSync(identityFile, 'utf8'), passphrase)
} else {
  identity = await Identity.create({ displayName: 'Valv-bot' })
  writeFileSync(identityFile, await identity.export(passphrase), { mode: 0o600 })
}
const invite = process.env.VALV_BOT_INVITE
const docId = existsSync(docFile) ? readFileSync(docFile, 'utf8').trim() : undefined
if (!invite && !docId) throw new Error('first run: set VALV_BOT_INVITE to an invite link')

const bot = await startBot({
  relayUrl,
  identity,
  storage: new FsStorageAdapter({ directory: join(dataDir, 'store') }),
  ...(invite && !docId ? { invite } : { docId: docId as string }),
})
writeFileSync(docFile, bot.docId)
process.stdout.write(`bot joined document ${bot.docId}; answering /tid, /medlemmar, /hjälp\n`)
process.stdout.write(`bot public card (share with it directly): ${identity.card.toString()}\n`)
const stop = () => bot.stop().then(() => process.exit(0))
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
