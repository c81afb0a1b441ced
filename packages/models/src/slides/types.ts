/** Position and size of an element, in slide units (e.g. pixels of a 1920×1080 slide). */
export interface SlideFrame {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

/** A reference to an encrypted blob held by the storage layer (never the bytes themselves). */
export interface SlideBlobRef {
  readonly blobId: string
  readonly mimeType: string
  readonly alt?: string
}

/** What an element is. */
export type SlideElementSpec =
  | { readonly kind: 'text' }
  | {
      readonly kind: 'shape'
      readonly shape: 'rect' | 'ellipse' | 'line' | 'arrow'
      readonly fill?: string
      readonly stroke?: string
    }
  | { readonly kind: 'image'; readonly blob: SlideBlobRef }

/** An element as read from the model. */
export interface SlideElement {
  readonly id: string
  readonly kind: 'text' | 'shape' | 'image'
  readonly frame: SlideFrame
  /** Stacking order key: elements are drawn in ascending (z, id) order. */
  readonly z: string
  readonly shape?: string
  readonly fill?: string
  readonly stroke?: string
  readonly blob?: SlideBlobRef
}

/** A change in presentation terms. `index` values are positions after the change. */
export type PresentationEvent =
  | { readonly type: 'slide-inserted'; readonly slideId: string; readonly index: number }
  | { readonly type: 'slide-removed'; readonly slideId: string; readonly from: number }
  | {
      readonly type: 'slide-moved'
      readonly slideId: string
      readonly from: number
      readonly to: number
    }
  | { readonly type: 'slide-changed'; readonly slideId: string; readonly index: number }
