import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** Every file's path and contents below `root`, and every empty directory except the root. */
export function scanDirectory(root: string): { items: Uint8Array[]; emptyContainers: string[] } {
  const items: Uint8Array[] = []
  const emptyContainers: string[] = []
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true })
    if (entries.length === 0 && dir !== root) emptyContainers.push(relative(root, dir))
    for (const entry of entries) {
      const path = join(dir, entry.name)
      items.push(new TextEncoder().encode(relative(root, path)))
      if (entry.isDirectory()) walk(path)
      else items.push(new Uint8Array(readFileSync(path)))
    }
  }
  walk(root)
  return { items, emptyContainers }
}
