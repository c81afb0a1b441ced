/**
 * A document with an admin, an editor and (optionally) a viewer on the real stack, plus a raw
 * wire socket in the editor's or viewer's hands: the setting of the `client-*` attacks, where a
 * member with valid keys sends what its honest client never would.
 */
import { DocumentSession, Identity, PublicCard, Role } from '@valv/crypto'
import type { WebsocketProvider } from '@valv/provider-websocket'
import {
  type ConnectOptions,
  type RawClient,
  type Stack,
  startStack,
  until,
} from '@valv/test-utils/stack'
import type { Frame } from '@valv/wire'

/** One member: its session and its real provider. */
export interface Member {
  readonly session: DocumentSession
  readonly provider: WebsocketProvider
}

/** Admin Anna and editor Bo (and viewer Vera when asked), connected and synced. */
export async function team(
  options: { viewer?: boolean; connect?: ConnectOptions } = {},
): Promise<{ stack: Stack; anna: Member; bo: Member; vera?: Member }> {
  const stack = await startStack()
  const annaId = await Identity.create({ displayName: 'Anna' })
  const admin = await DocumentSession.create(annaId)
  const anna = { session: admin, provider: await stack.connect(admin, options.connect) }
  const invite = async (name: string, role: Role): Promise<Member> => {
    const id = await Identity.create({ displayName: name })
    await admin.share(PublicCard.parse(id.card.toString()), role)
    const session = await DocumentSession.open(id, admin.docId)
    const provider = await stack.connect(session, options.connect)
    await session.joined()
    return { session, provider }
  }
  const bo = await invite('Bo', Role.Editor)
  if (!options.viewer) return { stack, anna, bo }
  return { stack, anna, bo, vera: await invite('Vera', Role.Viewer) }
}

/** A raw socket authenticated and subscribed to `docId` (frames from the relay recorded). */
export async function rawMember(stack: Stack, docId: string): Promise<RawClient> {
  return (await (await stack.raw()).auth()).subscribe(docId)
}

/** Send a sealed update as `ref` and wait for the relay's answer (it must store it). */
export async function push(raw: RawClient, docId: string, envelope: Uint8Array, ref: number) {
  raw.send({ type: 'envelope', docId, ref, envelope })
  const answer = await raw.next(
    (f: Frame) => (f.type === 'ack' || f.type === 'error') && f.ref === ref,
  )
  if (answer.type !== 'ack')
    throw new Error(`relay refused the attack envelope: ${JSON.stringify(answer)}`)
  return answer.seq
}

/** Wait until `p`'s text is `text`. */
export function text(p: WebsocketProvider, text: string, what = 'text'): Promise<void> {
  return until(() => p.doc.getText('t').toString() === text, 10_000, what)
}
