/**
 * Another node took the sequence number, membership index or snapshot claim first (the store's
 * compare-and-append refused): the room catches up with the store and tries again.
 */
export class Contended extends Error {}
