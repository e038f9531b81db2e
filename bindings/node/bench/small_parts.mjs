// Where the time of hashing one small document goes, for the floor of issue 22's
// small-document goals: CPU time per document (process.cpuUsage, so other load on the
// machine costs less than in wall time) of the peer and of each piece of our path, on
// the 10,000 records of canonical_hash.mjs. Medians of REPS (default 11) rounds.
// Run from bindings/node after `npm run build`: `node bench/small_parts.mjs`.
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import canonicalize from 'canonicalize'
import { record } from './records.mjs'

const require = createRequire(import.meta.url)
const ts = require('../index.js')
// The addon without the package's JS wrapper.
const native = require('../native.js')

const small = Array.from({ length: 10_000 }, (_, i) => record(i))
const texts = small.map((o) => JSON.stringify(o))
const buffers = texts.map((t) => Buffer.from(t))
const empty = Buffer.alloc(0)
const peer = (v) => 'sha256:' + createHash('sha256').update(canonicalize(v)).digest('hex')

const parts = [
  ['peer, objects: canonicalize + crypto', () => small.forEach(peer)],
  ['peer, texts: JSON.parse + canonicalize + crypto', () => texts.forEach((t) => peer(JSON.parse(t)))],
  ['canonicalHash(object)', () => small.forEach((o) => ts.canonicalHash(o))],
  ['  JSON.stringify(object) alone', () => small.forEach((o) => JSON.stringify(o))],
  ['canonicalHashJson(text)', () => texts.forEach((t) => native.canonicalHashJson(t))],
  ['  canonicalHashJson(Buffer): no string copy', () => buffers.forEach((b) => native.canonicalHashJson(b))],
  ['  hashBytes(empty Buffer): a call and a digest back', () => buffers.forEach(() => native.hashBytes(empty))],
]
const cpu = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}
const reps = Number(process.env.REPS ?? 11)
const times = parts.map(() => [])
for (let r = 0; r < reps; r++) {
  parts.forEach(([, f], i) => {
    const t = cpu()
    f()
    times[i].push((cpu() - t) / small.length)
  })
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const m = times.map(median)
console.log(`node ${process.version}; CPU time per document, median of ${reps}`)
parts.forEach(([name], i) => console.log(`${name.padEnd(52)} ${m[i].toFixed(2).padStart(6)} µs`))
console.log(`objects: ${(m[0] / m[2]).toFixed(2)}x (3x needs <= ${(m[0] / 3).toFixed(2)} µs); texts: ${(m[1] / m[4]).toFixed(2)}x (10x needs <= ${(m[1] / 10).toFixed(2)} µs)`)
