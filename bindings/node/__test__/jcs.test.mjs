// The repository's RFC 8785 conformance data (tests/jcs), checked through the Node binding
// so the languages cannot drift apart. TWINSYNC_JCS_DIR overrides the location.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { join, dirname } from 'node:path'
import * as ts from '../index.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const dir = process.env.TWINSYNC_JCS_DIR ?? join(here, '..', '..', '..', 'tests', 'jcs')
// The ES6 vector is generated, not stored; the Rust conformance test checks that this
// generator gives the upstream bytes.
const { es6Lines } = await import(pathToFileURL(join(dir, 'es6numbers.mjs')).href)

test('conformance data is present', () => {
  assert.ok(existsSync(join(dir, 'input')), `no JCS conformance data at ${dir} (set TWINSYNC_JCS_DIR)`)
})

for (const name of existsSync(join(dir, 'input')) ? readdirSync(join(dir, 'input')) : []) {
  test(`jcs ${name}: text, parsed value and hash match byte for byte`, () => {
    const input = readFileSync(join(dir, 'input', name))
    const expected = readFileSync(join(dir, 'output', name))
    const hex = readFileSync(join(dir, 'outhex', name.replace(/\.json$/, '.txt')), 'utf8').trim().split(/\s+/)
    assert.deepEqual(Buffer.from(hex.map((h) => parseInt(h, 16))), expected)
    assert.equal(ts.canonicalizeJson(input), expected.toString('utf8'))
    assert.equal(ts.canonicalize(JSON.parse(input.toString('utf8'))), expected.toString('utf8'))
    assert.equal(ts.canonicalHashJson(input), ts.hashBytes(expected))
    // The text as a JS string (two-byte in V8 when it holds non-Latin-1 characters),
    // and the parsed value, hash like the conformance output.
    assert.equal(ts.canonicalHashJson(input.toString('utf8')), ts.hashBytes(expected))
    assert.equal(ts.canonicalHash(JSON.parse(input.toString('utf8'))), ts.hashBytes(expected))
  })
}

function bitsToDouble(hex) {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt('0x' + hex))
  return b.readDoubleBE(0)
}

const numberSets = {
  'es6_static_u64.txt': () => readFileSync(join(dir, 'numbers', 'es6_static_u64.txt'), 'utf8'),
  'es6 vector, 100k lines': () => es6Lines(100_000),
}
for (const [file, read] of Object.entries(numberSets)) {
  test(`jcs numbers ${file}: every double prints as ECMAScript does`, () => {
    const lines = read().split('\n').filter(Boolean)
    const pairs = lines.map((l) => (l.includes(',') ? l.split(',') : [l, null]))
    const values = []
    const expected = []
    for (const [hex, want] of pairs) {
      const v = bitsToDouble(hex)
      if (!Number.isFinite(v)) continue
      values.push(v)
      expected.push(want ?? String(v))
    }
    assert.ok(values.length > 100)
    // One call for the whole file: the array's canonical form lists every number.
    const got = ts.canonicalize(values).slice(1, -1).split(',')
    assert.equal(got.length, expected.length)
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== expected[i]) assert.fail(`${pairs[i][0]}: got ${got[i]}, expected ${expected[i]}`)
    }
    // And as JSON text, which never went through a JS number.
    const text = '[' + expected.join(',') + ']'
    assert.equal(ts.canonicalizeJson(text), text)
  })
}
