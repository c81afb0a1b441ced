import { type DocumentCrypto, EncryptedDoc, type QueuedEnvelope } from '@valv/core'
import { ObservableV2 } from 'lib0/observable'
import * as Y from 'yjs'
import { BroadcastProviderError } from './errors.js'
import { isTabMessage, type TabMessage } from './messages.js'

/** Options of {@link BroadcastProvider}: either a shared `binding` or `doc` + `document`. */
export type BroadcastProviderOptions = {
  /** Channel name suffix; default the binding's `docId`. */
  readonly channel?: string
} & (
  | {
      /** A binding shared with other transports (the WebSocket provider). */
      readonly binding: EncryptedDoc
    }
  | {
      /** The document to sync. */
      readonly doc: Y.Doc
      /** Relay document id. */
      readonly docId: string
      /** The document's crypto handle (see `DocumentCrypto` in `@valv/core`). */
      readonly document: DocumentCrypto
    }
)

/** Events of {@link BroadcastProvider}. */
export interface BroadcastProviderEvents {
  /** A tab answered this tab's state request (at least one other tab is open). */
  synced: (synced: boolean) => void
  /** A message from another tab did not verify and was dropped. */
  rejected: (error: unknown) => void
}

/**
 * Cross-tab sync over `BroadcastChannel`: tabs of one origin share edits directly, without the
 * relay and still sealed with the document key. Each tab verifies what it receives before
 * applying it, exactly as for relay traffic. Works in browsers and Node (>= 18).
 *
 * @example
 * ```ts
 * const binding = new EncryptedDoc({ doc, docId: session.docId, crypto: session, storage })
 * const tabs = new BroadcastProvider({ binding })
 * const relay = new WebsocketProvider({ url, binding })
 * ```
 */
export class BroadcastProvider extends ObservableV2<BroadcastProviderEvents> {
  /** The binding this provider transports. */
  readonly binding: EncryptedDoc
  /** Whether another tab answered this tab's state request. */
  synced = false

  private readonly channel: BroadcastChannel
  private readonly tabId = Math.random().toString(36).slice(2)
  private readonly owned: boolean
  private closed = false

  /** Open the channel and ask other tabs for what this one lacks. */
  constructor(options: BroadcastProviderOptions) {
    super()
    if (typeof BroadcastChannel === 'undefined') {
      throw new BroadcastProviderError('unsupported', 'BroadcastChannel is not available')
    }
    if ('binding' in options) {
      this.binding = options.binding
      this.owned = false
    } else {
      if (!(options.doc instanceof Y.Doc) || !options.document) {
        throw new BroadcastProviderError('invalid-argument', 'doc and document are required')
      }
      this.binding = new EncryptedDoc({
        doc: options.doc,
        docId: options.docId,
        crypto: options.document,
      })
      this.owned = true
    }
    this.binding.registerOrigin(this)
    this.channel = new BroadcastChannel(`valv:${options.channel ?? this.binding.docId}`)
    this.channel.onmessage = (e: MessageEvent) => this.onMessage(e.data)
    this.binding.on('envelope', this.onEnvelope)
    this.binding.ready.then(() => this.requestState()).catch(() => undefined)
  }

  /** Close the channel; destroys the binding too if this provider created it. */
  override async destroy(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.binding.off('envelope', this.onEnvelope)
    this.channel.close()
    super.destroy()
    if (this.owned) await this.binding.destroy()
  }

  private readonly onEnvelope = (e: QueuedEnvelope): void => {
    this.post({ t: 'update', sealed: e.sealed })
  }

  private async requestState(): Promise<void> {
    const sealed = await this.binding.sealStateRequest()
    this.post({ t: 'sync1', sealed, from: this.tabId })
  }

  private post(m: TabMessage): void {
    if (!this.closed) this.channel.postMessage(m)
  }

  private onMessage(data: unknown): void {
    if (this.closed || !isTabMessage(data)) return
    this.handle(data).catch((error) => this.emit('rejected', [error]))
  }

  private async handle(m: TabMessage): Promise<void> {
    if (m.t === 'update') {
      await this.binding.receiveDirect('update', m.sealed, this)
    } else if (m.t === 'sync1') {
      const sealed = await this.binding.answerStateRequest(m.sealed)
      this.post({ t: 'sync2', sealed, to: m.from })
    } else if (m.to === this.tabId) {
      if (await this.binding.receiveDirect('state', m.sealed, this)) {
        if (!this.synced) {
          this.synced = true
          this.emit('synced', [true])
        }
      }
    }
  }
}
