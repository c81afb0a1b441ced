import { Identity, Role } from '@valv/crypto'
import { openDocument } from '@valv/provider-websocket'

const relay = new URLSearchParams(location.search).get('relay') ?? 'ws://127.0.0.1:8080'
const me = await Identity.create({ displayName: 'Guest' }) // keys never leave this tab
const invite = location.hash.length > 1 ? location.hash : undefined
// Creates a document, or joins the one in the link; resolves once it is synced.
const { doc, session } = await openDocument({ identity: me, relay, ...(invite ? { invite } : {}) })
if (!invite) {
  const link = await session.createInviteLink({ role: Role.Editor })
  document.querySelector('#link')!.textContent = location.href.split('#')[0] + link
}

const text = doc.getText('text')
const area = document.querySelector<HTMLTextAreaElement>('#text')!
const show = () => {
  if (area.value !== text.toString()) area.value = text.toString()
}
show() // the document arrives synced: show what it already holds
text.observe(show)
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
