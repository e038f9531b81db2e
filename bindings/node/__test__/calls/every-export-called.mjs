// Every export called, as a fact of the run: test.sh runs the suite with record.cjs
// preloaded (it writes what each test process called into $TWINSYNC_CALLS_DIR), then
// this file, which fails for any export listed in API.md that no test process called.
// Run outside test.sh, with no records, it fails too: nothing was seen.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { listed } from '../exports-table.mjs'

test('every export listed in API.md was called by some test in this run', () => {
  const dir = process.env.TWINSYNC_CALLS_DIR
  assert.ok(dir, 'TWINSYNC_CALLS_DIR is not set: run the suite through test.sh, which records the calls')
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'))
  assert.ok(files.length > 0, `no call records in ${dir}: the suite did not run with record.cjs preloaded`)
  const seen = new Set(files.flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))))
  assert.deepEqual(listed().filter((n) => !seen.has(n)), [], 'listed exports no test called')
})
