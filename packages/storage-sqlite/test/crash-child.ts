// Child process of the crash test: appends envelopes through DocumentStore as fast as it can,
// rewrites a 4 MiB blob in the background, prints "ack <seq>" after each append resolves and
// compacts every 50 appends. The parent SIGKILLs it mid-write.
// Usage: crash-child.ts <database file> <firstSeq>
import { DocumentStore } from '@valv/storage'
import { blobVersion, envelope, snapshotBytes } from '@valv/test-utils/storage-crash'
import { SqliteStorageAdapter } from '../src/index.js'

const [filename, first] = process.argv.slice(2)
const store = new DocumentStore(new SqliteStorageAdapter({ filename: filename! }))
// A blob rewritten in the background, so the kill usually lands in the middle of a stream too.
void (async () => {
  for (let n = 0; ; n++) await store.putBlob('doc', 'attachment', blobVersion(n))
})()
for (let seq = Number(first); ; seq++) {
  await store.appendLog('doc', seq, envelope(seq))
  process.stdout.write(`ack ${seq}\n`)
  if (seq % 50 === 0) {
    await store.putSnapshot('doc', seq, snapshotBytes(seq))
    process.stdout.write(`snap ${seq}\n`)
  }
}
