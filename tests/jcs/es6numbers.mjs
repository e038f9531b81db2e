// The ES6 number vector of cyberphone/json-canonicalization, made here instead of
// downloaded: the upstream file is 100 million lines (4 GB) kept outside its repository.
// The bit patterns follow the upstream sequence (the hand-picked patterns in
// numbers/es6_static_u64.txt, 2000 patterns up from the smallest normal double, then a
// SHA-256 chain from 32 zero bytes read as four little-endian u64s per hash, skipping
// NaN and infinities). The expected spelling is Node's own Number#toString, which is
// what RFC 8785 section 3.2.2.3 requires. The first 100,000 lines hash to the value the
// upstream testdata README publishes (see README.md), so the bytes are the upstream ones.
//
//   node es6numbers.mjs COUNT > vector.txt     writes `<hex bits>,<expected>\n` lines
//   import { es6Lines } from './es6numbers.mjs'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))

export function * es6Bits(count) {
  const statics = readFileSync(here + 'numbers/es6_static_u64.txt', 'utf8').split('\n').filter((l) => l.trim())
  const buf = Buffer.alloc(8)
  let n = 0
  const finite = (bits) => {
    buf.writeBigUInt64BE(bits)
    return Number.isFinite(buf.readDoubleBE(0))
  }
  const candidates = function * () {
    for (const s of statics) yield BigInt('0x' + s.trim())
    for (let i = 0n; i < 2000n; i++) yield 0x10000000000000n + i
    let state = Buffer.alloc(32)
    for (;;) {
      state = createHash('sha256').update(state).digest()
      for (let o = 0; o < 32; o += 8) yield state.readBigUInt64LE(o)
    }
  }
  for (const bits of candidates()) {
    if (n >= count) return
    if (!finite(bits)) continue
    n++
    yield bits
  }
}

export function es6Lines(count) {
  const buf = Buffer.alloc(8)
  const out = []
  for (const bits of es6Bits(count)) {
    buf.writeBigUInt64BE(bits)
    out.push(bits.toString(16) + ',' + String(buf.readDoubleBE(0)) + '\n')
  }
  return out.join('')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const count = Number(process.argv[2])
  if (!Number.isInteger(count) || count < 0) {
    console.error('usage: node es6numbers.mjs COUNT')
    process.exit(2)
  }
  process.stdout.write(es6Lines(count))
}
