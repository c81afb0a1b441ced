export { SlideError, type SlideErrorCode } from './errors.js'
export { Presentation } from './presentation.js'
export type {
  PresentationEvent,
  SlideBlobRef,
  SlideElement,
  SlideElementSpec,
  SlideFrame,
} from './types.js'
