import type { DocumentSession } from '@valv/crypto'
import type { WebsocketProvider } from '@valv/provider-websocket'
import type * as Y from 'yjs'

/** What a page gives an editor binding: the synced document and its transport. */
export interface BindContext {
  readonly element: HTMLElement
  readonly doc: Y.Doc
  readonly provider: WebsocketProvider
  readonly session: DocumentSession
  /** This user's name and cursor colour. */
  readonly user: { readonly name: string; readonly color: string }
}

/** An editor bound to a Valv document, as the test drives it. */
export interface BoundEditor {
  /** The text the editor shows (read from the editor, not from the Y.Doc). */
  text(): string
  /** Where a click puts the caret into the editor. */
  readonly input: string
  /** An element that appears once another user's cursor is drawn. */
  readonly remoteCursor: string
}

export type Bind = (ctx: BindContext) => BoundEditor | Promise<BoundEditor>
