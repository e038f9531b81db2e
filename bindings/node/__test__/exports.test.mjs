// The Node column of the Exports table in bindings/API.md must be exactly what the
// loaded package exports, from `require` and from `import` alike: its top-level names
// and, for its classes, the methods and getters on their prototypes. That every listed
// name is also called by some test is checked from the run itself: test.sh preloads
// calls/record.cjs and then runs calls/every-export-called.mjs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as esm from '../index.mjs'
import { listed } from './exports-table.mjs'

const require = createRequire(import.meta.url)
const cjs = require('../index.js')

/** Top-level names and, for classes other than errors, `Class.member`. */
function exported(mod) {
  const names = []
  for (const name of Object.keys(mod)) {
    // napi-rs's own loader bookkeeping, not an API.
    if (name.startsWith('__')) continue
    names.push(name)
    const value = mod[name]
    const isClass = typeof value === 'function' && /^[A-Z]/.test(name)
    if (!isClass || value === Error || value.prototype instanceof Error) continue
    // String keys only: `Symbol.asyncIterator` is the protocol, not a name.
    for (const member of Object.getOwnPropertyNames(value.prototype)) {
      if (member !== 'constructor') names.push(`${name}.${member}`)
    }
  }
  return names.sort()
}

// The ES module's default export is the CommonJS module itself (`import twinsync from
// 'twinsync'`): the same names again, not one more.
const { default: esmDefault, ...esmNamed } = esm

test('require and import give the same exports, the same objects', () => {
  assert.equal(esmDefault, cjs)
  assert.deepEqual(exported(esmNamed), exported(cjs))
  for (const name of Object.keys(esmNamed)) assert.equal(esmNamed[name], cjs[name], name)
})

for (const [entry, mod] of [
  ['require', cjs],
  ['import', esmNamed],
]) {
  test(`API.md lists exactly what the package exports (${entry})`, () => {
    const want = new Set(listed())
    const have = new Set(exported(mod))
    assert.deepEqual([...want].filter((n) => !have.has(n)), [], 'listed in API.md, not exported')
    assert.deepEqual([...have].filter((n) => !want.has(n)), [], 'exported, not listed in API.md')
  })
}
