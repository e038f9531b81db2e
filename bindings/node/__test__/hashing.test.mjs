// Canonical hashing from Node: values, JSON text, text, bytes, tree digests, and
// the errors a caller can trigger.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import * as ts from '../index.mjs'

const sha = (s) => 'sha256:' + createHash('sha256').update(s).digest('hex')

test('canonicalHash is the SHA-256 of the RFC 8785 form, as the CLI prints it', () => {
  const v = { b: [1, 2.5, 'x'], a: { d: null, c: true } }
  assert.equal(ts.canonicalize(v), '{"a":{"c":true,"d":null},"b":[1,2.5,"x"]}')
  assert.equal(ts.canonicalHash(v), sha('{"a":{"c":true,"d":null},"b":[1,2.5,"x"]}'))
  assert.match(ts.canonicalHash(v), /^sha256:[0-9a-f]{64}$/)
  assert.equal(ts.canonicalHash('é'), sha('"é"'))
})

test('text arguments are read whole: Latin-1, two-byte and astral strings, large and after large', () => {
  // The addon writes JS strings into a reused UTF-8 buffer sized from their UTF-16
  // length; each case must come out exactly as Buffer.from encodes it.
  const cases = [
    '"plain"',
    '"é ü"',
    '"漢字 €"',
    '{"😀":1,"\ufffd":2}',
    JSON.stringify({ big: '漢'.repeat(600_000) }), // 1.8 MB of UTF-8: beyond the kept buffer
    '"x"',
  ]
  for (const text of cases) {
    assert.equal(ts.canonicalHashJson(text), ts.canonicalHashJson(Buffer.from(text)))
    assert.equal(ts.canonicalizeJson(text), ts.canonicalize(JSON.parse(text)))
  }
  assert.equal(ts.canonicalizeJson('{"😀":1,"\ufffd":2,"\ue000":3}'), '{"😀":1,"\ue000":3,"\ufffd":2}')
  // Dates go through toJSON and undefined members are dropped, as JSON.stringify does.
  assert.equal(ts.canonicalize({ b: undefined, a: new Date(0) }), '{"a":"1970-01-01T00:00:00.000Z"}')
  // An argument of the wrong type is the napi layer's InvalidArg, as for every export.
  assert.throws(() => ts.canonicalHashJson(12), (e) => e.code === 'InvalidArg' && !(e instanceof ts.TwinsyncError))
})

test('strings are transcoded as Buffer.from encodes them, lone surrogates included', () => {
  // The addon copies a string out as UTF-16 and writes the UTF-8 itself, 16 ASCII
  // units at a time: every kind of unit lands on every side of a 16-unit boundary,
  // and a lone surrogate becomes U+FFFD as in Buffer.from.
  const units = ['a', '~', '\x7f', '\x80', 'é', '\u07ff', '\u0800', '漢', '\uffff', '😀', '\ud800', '\udfff', '\ud83dx']
  let seed = 7
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648)
  for (let n = 0; n < 400; n++) {
    let s = 'x'.repeat(next() % 40)
    for (let k = next() % 6; k > 0; k--) s += units[next() % units.length] + 'y'.repeat(next() % 20)
    const text = `{"k":"${s}"}`
    assert.equal(ts.canonicalizeJson(text), ts.canonicalizeJson(Buffer.from(text)), JSON.stringify(text))
    assert.equal(ts.canonicalHashJson(text), ts.canonicalHashJson(Buffer.from(text)), JSON.stringify(text))
  }
})

test('a string is read whole at every length around the kept buffer, and other values after one are not strings', () => {
  // The addon first copies a string straight into the buffer kept from the last one,
  // and only asks for the length when it may not have fitted.
  const sized = (n) => `"${'é'.repeat(n - 2)}"`
  for (const base of [2, 17, 300, 5000]) {
    ts.canonicalHashJson(sized(base))
    for (let n = Math.max(2, base - 3); n <= base + 3; n++) {
      const text = sized(n)
      assert.equal(ts.canonicalHashJson(text), sha(text), `${n} units after ${base}`)
      ts.canonicalHashJson(sized(base))
    }
  }
  assert.equal(ts.canonicalHashJson(Buffer.from('"x"')), sha('"x"'))
  assert.throws(() => ts.canonicalHashJson({}), { code: 'InvalidArg' })
  assert.throws(() => ts.canonicalHashJson(null), { code: 'InvalidArg' })
  // An empty string is read (no units copied), then rejected as JSON.
  assert.throws(() => ts.canonicalHashJson(''), { code: 'INVALID_INPUT' })
})

test('ignore patterns drop volatile members before hashing', () => {
  const a = { id: 1, updatedAt: '2024-01-01', items: [{ id: 7, name: 'x' }] }
  const b = { id: 1, updatedAt: '2025-06-30', items: [{ id: 9, name: 'x' }] }
  assert.notEqual(ts.canonicalHash(a), ts.canonicalHash(b))
  assert.equal(ts.canonicalHash(a, { ignore: ['/updatedAt', '/items/*/id'] }), ts.canonicalHash(b, { ignore: ['/updatedAt', '/items/*/id'] }))
  assert.equal(ts.canonicalize(a, { ignore: ['/**/id'] }), '{"items":[{"name":"x"}],"updatedAt":"2024-01-01"}')
})

test('JSON text and Buffers hash like the values they hold', () => {
  const text = '{ "b": 1.0, "a": [1e2] }'
  assert.equal(ts.canonicalizeJson(text), '{"a":[100],"b":1}')
  assert.equal(ts.canonicalHashJson(text), ts.canonicalHash({ a: [100], b: 1 }))
  assert.equal(ts.canonicalHashJson(Buffer.from(text)), ts.canonicalHashJson(text))
  assert.equal(ts.canonicalizeJson('12345678901234567890', { bigIntegers: 'string' }), '"12345678901234567890"')
})

test('canonicalHashJson reads its options only when given, and as every export does', () => {
  // The export JS calls is a plain Node-API callback (src/lib.rs): no options, an
  // explicit undefined or null are the defaults; options are applied; options of
  // the wrong shape are napi's own argument errors, as from any other export.
  const text = '{"b":[1,"x"],"a":2,"c":{"id":1}}'
  const want = sha('{"a":2,"b":[1,"x"],"c":{"id":1}}')
  assert.equal(ts.canonicalHashJson(text), want)
  assert.equal(ts.canonicalHashJson(text, undefined), want)
  assert.equal(ts.canonicalHashJson(text, null), want)
  assert.equal(ts.canonicalHashJson(text, {}), want)
  assert.equal(ts.canonicalHashJson(text, { ignore: ['/**/id', '/b'] }), sha('{"a":2,"c":{}}'))
  assert.equal(ts.canonicalHashJson(Buffer.from(text), { ignore: ['/b'] }), sha('{"a":2,"c":{"id":1}}'))
  assert.equal(ts.canonicalHashJson('[1e2]', { maxDepth: 1 }), sha('[100]'))
  assert.throws(() => ts.canonicalHashJson(text, { ignore: 5 }), (e) => e.code === 'ArrayExpected' && !(e instanceof ts.TwinsyncError))
  assert.throws(() => ts.canonicalHashJson('[[1]]', { maxDepth: 1 }), { code: 'INVALID_INPUT', message: /deeper than 1/ })
  assert.throws(() => ts.canonicalHashJson(), { code: 'InvalidArg' })
})

test('bad JSON is an InvalidInputError naming the place and the problem', () => {
  assert.throws(() => ts.canonicalHashJson('{"a":1,"a":2}'), (e) => {
    assert.ok(e instanceof ts.InvalidInputError)
    assert.ok(e instanceof ts.TwinsyncError)
    assert.ok(e instanceof Error)
    assert.equal(e.code, 'INVALID_INPUT')
    assert.match(e.message, /duplicate key "a"/)
    return true
  })
  assert.throws(() => ts.canonicalizeJson('[1,'), { code: 'INVALID_INPUT', message: /invalid JSON/ })
  assert.throws(() => ts.canonicalizeJson('12345678901234567890'), { code: 'INVALID_INPUT', message: /beyond 2\^53/ })
  assert.throws(() => ts.canonicalHash({ a: 1 }, { ignore: ['updatedAt'] }), { code: 'INVALID_INPUT', message: /JSON Pointer/ })
  assert.throws(() => ts.canonicalHash({ a: 1 }, { bigIntegers: 'round' }), { code: 'INVALID_INPUT' })
  assert.throws(() => ts.canonicalize([[[1]]], { maxDepth: 2 }), { code: 'INVALID_INPUT', message: /deeper than 2/ })
})

test('values JSON cannot hold are rejected, not silently changed', () => {
  const cyclic = {}
  cyclic.self = cyclic
  assert.throws(() => ts.canonicalHash(cyclic), (e) => e instanceof ts.InvalidInputError && /circular/i.test(e.message))
  assert.throws(() => ts.canonicalHash({ n: 10n }), (e) => e instanceof ts.InvalidInputError && /BigInt/i.test(e.message))
  assert.throws(() => ts.canonicalHash(undefined), { code: 'INVALID_INPUT', message: /no JSON form/ })
  // After a rejected value the addon keeps working (the JS exception was taken over).
  assert.equal(ts.canonicalize({ ok: 1 }), '{"ok":1}')
})

test('canonicalHash reads a value exactly as JSON.stringify does', () => {
  // The contract any faster reader of JS values must keep (session 13 tried one
  // through Node-API): toJSON with its key, dropped members, own enumerable string
  // keys only, wrapper objects unwrapped, everything else an object of its own members.
  const Klass = class {
    constructor() {
      this.b = 2
      this.a = 1
    }
    get c() {
      return 3
    }
  }
  const hidden = Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false })
  const bare = Object.create(null)
  bare.x = 1
  const cases = [
    [{ b: { toJSON: (k) => `key:${k}` }, a: [{ toJSON: (k) => `index:${k}` }] }, '{"a":["index:0"],"b":"key:b"}'],
    // What toJSON returns is not given to its own toJSON again.
    [{ x: { toJSON: () => ({ toJSON: () => 'no', y: 1 }) } }, '{"x":{"y":1}}'],
    [{ u: undefined, f() {}, s: Symbol('s'), arr: [undefined, () => 1, Symbol('t')] }, '{"arr":[null,null,null]}'],
    [[1, , 3], '[1,null,3]'], // a hole
    [[-0, 1e21, 1.5e-7, NaN, Infinity, 0.1 + 0.2], '[0,1e+21,1.5e-7,null,null,0.30000000000000004]'],
    [{ '😀': 1, '\ue000': 2, é: 3, a: 4 }, '{"a":4,"é":3,"😀":1,"\ue000":2}'],
    [{ 10: 'a', 2: 'b', x: 'c' }, '{"10":"a","2":"b","x":"c"}'],
    [{ get g() { return 5 } }, '{"g":5}'],
    [{ [Symbol('k')]: 1, a: 1 }, '{"a":1}'],
    [new Klass(), '{"a":1,"b":2}'],
    [{ m: new Map([[1, 2]]), s: new Set([1]) }, '{"m":{},"s":{}}'],
    [[new Number(3), new String('ab'), new Boolean(false)], '[3,"ab",false]'],
    [hidden, '{"a":1}'],
    [bare, '{"x":1}'],
    [{ d: new Date(0) }, '{"d":"1970-01-01T00:00:00.000Z"}'],
  ]
  for (const [value, canonical] of cases) {
    assert.equal(ts.canonicalize(value), canonical)
    assert.equal(ts.canonicalHash(value), sha(canonical))
    assert.equal(ts.canonicalHash(value), ts.canonicalHashJson(JSON.stringify(value)))
  }
  // A lone surrogate (escaped by JSON.stringify) is not I-JSON; a throwing getter is
  // the package's error with the thrown message.
  assert.throws(() => ts.canonicalHash({ k: 'a\ud800' }), { code: 'INVALID_INPUT', message: /lone UTF-16 surrogate/ })
  const throwing = {
    get x() {
      throw new Error('boom')
    },
  }
  assert.throws(() => ts.canonicalHash(throwing), (e) => e instanceof ts.InvalidInputError && /boom/.test(e.message))
})

test('hashText normalises BOM and line ends; hashBytes does not', () => {
  assert.equal(ts.hashText('a\r\nb\n'), ts.hashText('\ufeffa\nb\n'))
  assert.equal(ts.hashText('a\nb\n'), sha('a\nb\n'))
  assert.equal(ts.hashText('a  \n', { trimTrailingWhitespace: true }), ts.hashText('a\n'))
  assert.equal(ts.hashBytes(Buffer.from('abc')), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  assert.notEqual(ts.hashBytes(Buffer.from('a\r\n')), ts.hashBytes(Buffer.from('a\n')))
})

test('treeDigest takes digests or contents and ignores key order', () => {
  const byContent = ts.treeDigest({ 'b.json': { x: 1 }, 'a.md': '# A\n' })
  const byDigest = ts.treeDigest({ 'a.md': ts.hashText('# A\r\n'), 'b.json': ts.canonicalHash({ x: 1.0 }) })
  assert.equal(byContent, byDigest)
  assert.notEqual(byContent, ts.treeDigest({ 'a.md': '# A\n' }))
  assert.throws(() => ts.treeDigest({ '../escape': 'x' }), { code: 'INVALID_INPUT', message: /\.\.\/escape/ })
  assert.throws(() => ts.treeDigest({ a: 'sha256:nothex' }), { code: 'INVALID_INPUT', message: /invalid digest/ })
  assert.throws(() => ts.treeDigest([1, 2]), { code: 'INVALID_INPUT', message: /expected an object/ })
})

test('the error classes map every core code', () => {
  assert.deepEqual(ts.errorCodes(), Object.keys(ts.errorClasses))
  for (const [code, cls] of Object.entries(ts.errorClasses)) {
    const e = new cls('m')
    assert.equal(e.code, code)
    assert.ok(e instanceof ts.TwinsyncError)
    assert.equal(e.name, cls.name)
  }
})

test('the ES module and CommonJS entries export the same API', async () => {
  const { createRequire } = await import('node:module')
  const cjs = createRequire(import.meta.url)('../index.js')
  const esm = await import('../index.mjs')
  const names = Object.keys(esm).filter((k) => k !== 'default').sort()
  assert.deepEqual(names, Object.keys(cjs).filter((k) => k !== '__napiBindingTarget').sort())
  assert.equal(esm.canonicalHash, cjs.canonicalHash)
  assert.equal(esm.default, cjs)
})

test('canonicalHashJson in a worker thread, where the addon registers its exports again', async () => {
  // The fast export is put in place when each JS environment loads the addon.
  const { Worker } = await import('node:worker_threads')
  const entry = new URL('../index.js', import.meta.url).pathname
  const code = `
    const { parentPort } = require('node:worker_threads')
    const ts = require(${JSON.stringify(entry)})
    let err
    try { ts.canonicalHashJson('{"a":1,"a":2}') } catch (e) { err = e instanceof ts.InvalidInputError && e.code }
    parentPort.postMessage([ts.canonicalHashJson('{"b":1,"a":"é"}'), ts.canonicalHash({ b: 1, a: 'é' }), err])`
  const got = await new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true })
    w.once('message', resolve)
    w.once('error', reject)
  })
  assert.deepEqual(got, [sha('{"a":"é","b":1}'), sha('{"a":"é","b":1}'), 'INVALID_INPUT'])
})
