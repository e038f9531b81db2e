// The Node column of the Exports table in bindings/API.md: `name` or `Class.member`.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const here = new URL('.', import.meta.url).pathname

export function listed() {
  const api = readFileSync(join(here, '..', '..', 'API.md'), 'utf8')
  const table = api.split('<!-- exports:begin -->')[1].split('<!-- exports:end -->')[0]
  const rows = table.split('\n').filter((l) => l.startsWith('|') && !l.startsWith('| Python') && !l.startsWith('| ---'))
  return rows.map((r) => r.split('|')[2].trim().replace(/`/g, '')).filter(Boolean)
}
