// Every export called: the Node column of the Exports table in bindings/API.md must be
// exactly what the package exports (functions, classes and their methods and getters),
// and each listed name must be called (a function or method) or used (a class, a
// getter, an error class) by some test in this folder. The scan reads the test
// sources: `name(` for a callable, the bare name otherwise.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const here = new URL('.', import.meta.url).pathname
const api = readFileSync(join(here, '..', '..', 'API.md'), 'utf8')

/** The Node column of the Exports table: `name` or `Class.member`. */
function listed() {
  const table = api.split('<!-- exports:begin -->')[1].split('<!-- exports:end -->')[0]
  const rows = table.split('\n').filter((l) => l.startsWith('|') && !l.startsWith('| Python') && !l.startsWith('| ---'))
  return rows.map((r) => r.split('|')[2].trim().replace(/`/g, '')).filter(Boolean)
}

/** What the package exports: top-level names and, for classes, `Class.member`. */
function exported() {
  const mod = require('../index.js')
  const names = []
  for (const [name, value] of Object.entries(mod)) {
    // napi-rs's own loader bookkeeping, not an API.
    if (name.startsWith('__')) continue
    names.push(name)
    const isClass = typeof value === 'function' && /^[A-Z]/.test(name) && !(value.prototype instanceof Error) && value !== Error
    if (!isClass || name.endsWith('Error')) continue
    for (const member of Object.getOwnPropertyNames(value.prototype)) {
      if (member === 'constructor' || typeof member !== 'string') continue
      names.push(`${name}.${member}`)
    }
  }
  return names
}

function kind(name) {
  const mod = require('../index.js')
  const [cls, member] = name.split('.')
  if (!member) return /^[A-Z]/.test(name) || typeof mod[name] !== 'function' ? 'used' : 'called'
  const d = Object.getOwnPropertyDescriptor(mod[cls].prototype, member)
  return d && d.get ? 'used' : 'called'
}

const sources = readdirSync(here)
  .filter((f) => /\.test\.mjs$/.test(f) && f !== 'exports.test.mjs')
  .map((f) => readFileSync(join(here, f), 'utf8'))
  .join('\n')

test('API.md lists exactly what the package exports', () => {
  const want = new Set(listed())
  const have = new Set(exported())
  assert.deepEqual([...want].filter((n) => !have.has(n)), [], 'listed in API.md, not exported')
  assert.deepEqual([...have].filter((n) => !want.has(n)), [], 'exported, not listed in API.md')
})

test('every export listed in API.md is called by some test', () => {
  const missed = listed().filter((name) => {
    // `return` is the async iterator protocol: leaving a `for await` loop early calls it.
    if (name === 'Watch.return') return !/for await[\s\S]*?\bbreak\b/.test(sources)
    const last = name.split('.').pop()
    const esc = last.replace(/[$]/g, '\\$')
    const re = kind(name) === 'called' ? new RegExp(`\\b${esc}\\s*\\(`) : new RegExp(`\\b${esc}\\b`)
    return !re.test(sources)
  })
  assert.deepEqual(missed, [], 'listed exports no test calls')
})
