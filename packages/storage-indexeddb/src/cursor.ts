/**
 * Walk a cursor inside the current transaction. `step` receives each position and returns
 * `true` to stop, a key to jump to, or `undefined` to move to the next record.
 */
export function walk<C extends IDBCursor>(
  request: IDBRequest<C | null>,
  step: (cursor: C) => boolean | IDBValidKey | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    request.onerror = () => reject(request.error)
    request.onsuccess = () => {
      const cursor = request.result
      if (cursor === null) return resolve()
      const next = step(cursor)
      if (next === true) return resolve()
      if (next === undefined || next === false) cursor.continue()
      else cursor.continue(next)
    }
  })
}
