// One page per user: open (or join) a Valv document on the relay given in `?relay=`, bind the
// editor named in `?editor=` to it, and expose what the Chromium test reads on `window.valv`.
import { Identity, Role } from '@valv/crypto'
import { openDocument } from '@valv/provider-websocket'
import type { Bind, BoundEditor } from './binding.js'

/** What the test reads. `misbehaviour` must stay empty: the relay is honest. */
interface PageState {
  link?: string
  editor?: BoundEditor
  /** The shared types of the Y.Doc as text, to tell keystrokes an editor dropped (never in the
   * Y.Doc) from updates lost on the way (in one user's Y.Doc, not the other's). */
  ydocText?: () => string
  misbehaviour: string[]
  errors: string[]
}

const state: PageState = { misbehaviour: [], errors: [] }
;(window as unknown as { valv: PageState }).valv = state

const bindings: Record<string, () => Promise<{ bind: Bind }>> = {
  tiptap: () => import('./tiptap.js'),
  prosemirror: () => import('./prosemirror.js'),
  codemirror: () => import('./codemirror.js'),
  quill: () => import('./quill.js'),
  monaco: () => import('./monaco.js'),
}

const params = new URLSearchParams(location.search)
const name = params.get('editor') ?? ''
const load = bindings[name]
if (load === undefined) throw new Error(`unknown editor ${name}`)
const relay = params.get('relay') ?? 'ws://127.0.0.1:8080'
const invite = location.hash.length > 1 ? location.hash : undefined
const user = invite ? { name: 'Bo', color: '#b91c1c' } : { name: 'Anna', color: '#1d4ed8' }

const me = await Identity.create({ displayName: user.name })
const { doc, session, provider } = await openDocument({
  identity: me,
  relay,
  ...(invite ? { invite } : {}),
})
state.ydocText = () =>
  [...doc.share].map(([key, type]) => `${key}=${type.toString().replace(/<[^>]*>/g, '')}`).join('|')
provider.on('misbehaviour', (m) => state.misbehaviour.push(`${m.kind}: ${m.message}`))
provider.on('error', (e) => state.errors.push(`${(e as { code?: string }).code}: ${e.message}`))
const { bind } = await load()
state.editor = await bind({
  element: document.querySelector<HTMLElement>('#editor') as HTMLElement,
  doc,
  provider,
  session,
  user,
})
// `?trap`: an application observer that throws whenever a remote update lands, as a buggy editor
// binding does. Valv must count the update as applied (an `observer-threw` error), not accuse
// the relay of withholding it.
if (params.has('trap')) {
  for (const type of doc.share.values()) {
    type.observeDeep((_events, tr) => {
      if (!tr.local) throw new Error('application observer trap')
    })
  }
}
if (!invite) state.link = await session.createInviteLink({ role: Role.Editor })
document.body.dataset.ready = 'true'
