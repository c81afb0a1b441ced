import { DocumentSession, Identity, Role } from '@valv/crypto'
import { WebsocketProvider } from '@valv/provider-websocket'
import * as Y from 'yjs'

const relay = new URLSearchParams(location.search).get('relay') ?? 'ws://127.0.0.1:8080'
const me = await Identity.create({ displayName: 'Guest' }) // keys never leave this tab
const invite = location.hash.length > 1 ? location.hash : undefined
const session = invite ? await DocumentSession.join(me, invite) : await DocumentSession.create(me)
const doc = new Y.Doc()
const provider = new WebsocketProvider({ url: relay, doc, docId: session.docId, document: session })
await session.attach(provider)
if (invite) await session.joined()
else {
  const link = await session.createInviteLink({ role: Role.Editor })
  document.querySelector('#link')!.textContent = location.href.split('#')[0] + link
}

const text = doc.getText('text')
const area = document.querySelector<HTMLTextAreaElement>('#text')!
text.observe(() => {
  if (area.value !== text.toString()) area.value = text.toString()
})
area.addEventListener('input', () => {
  // Replace only the changed middle, so concurrent edits elsewhere merge.
  const [a, b] = [text.toString(), area.value]
  let start = 0
  while (start < a.length && a[start] === b[start]) start++
  let end = 0
  while (end < a.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++
  doc.transact(() => {
    text.delete(start, a.length - start - end)
    text.insert(start, b.slice(start, b.length - end))
  })
})
