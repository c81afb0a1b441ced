const disposers: (() => void)[] = []

/** Run `fn` when the current view is replaced. */
export function onDispose(fn: () => void): void {
  disposers.push(fn)
}

/** Tear down the current view's editors and listeners. */
export function disposeAll(): void {
  for (const fn of disposers.splice(0).reverse()) fn()
}
