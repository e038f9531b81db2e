// canonicalHash against the usual Node peer, `canonicalize` (npm) + `crypto` SHA-256, in
// one process: 10,000 ~0.9 KB objects and one ~20 MB document, first as JS objects
// (canonicalHash), then as JSON text already in a string (canonicalHashJson, against
// JSON.parse + canonicalize + crypto). Digests are checked equal before any timing.
// Prints medians and the median pair ratios (issue 22's goals: >= 3x objects, >= 10x text).
// Run from bindings/node after `npm run build`: `node bench/canonical_hash.mjs`.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import canonicalize from 'canonicalize'
import * as ts from '../index.mjs'
import { record } from './records.mjs'

const peer = (v) => 'sha256:' + createHash('sha256').update(canonicalize(v)).digest('hex')
const ours = (v) => ts.canonicalHash(v)
const peerText = (t) => peer(JSON.parse(t))
const oursText = (t) => ts.canonicalHashJson(t)

// The VM's speed drifts by half within minutes, so each repetition times the peer and
// then ours back to back, and the ratio reported is the median of those pair ratios
// (as benches/peer.sh does); the times shown are the medians of each side.
function pair(peerFn, oursFn, reps) {
  const p = [], o = [], r = []
  for (let i = 0; i < reps; i++) {
    let t = process.hrtime.bigint()
    peerFn()
    p.push(Number(process.hrtime.bigint() - t) / 1e6)
    t = process.hrtime.bigint()
    oursFn()
    o.push(Number(process.hrtime.bigint() - t) / 1e6)
    r.push(p[i] / o[i])
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  return [median(p), median(o), median(r)]
}

const small = Array.from({ length: 10_000 }, (_, i) => record(i))
const avg = small.reduce((n, o) => n + JSON.stringify(o).length, 0) / small.length
for (const o of small) if (ours(o) !== peer(o)) throw new Error(`digest mismatch for ${o.id}`)

// 22,000 records make about 20 MB of JSON.
const large = { components: Array.from({ length: 22_000 }, (_, i) => record(i)) }
const largeBytes = JSON.stringify(large).length
if (ours(large) !== peer(large)) throw new Error('digest mismatch on the large document')

// The same data as text, as it would come from a file or a request.
const smallText = small.map((o) => JSON.stringify(o))
const largeText = JSON.stringify(large)
for (const t of smallText) if (oursText(t) !== peerText(t)) throw new Error('digest mismatch on text')
if (oursText(largeText) !== peerText(largeText)) throw new Error('digest mismatch on the large text')

const reps = Number(process.env.REPS ?? 7)
const mb = (largeBytes / 1e6).toFixed(1)
const results = [
  ['10,000 objects', 3, pair(() => small.forEach(peer), () => small.forEach(ours), reps)],
  [`one object (${mb} MB)`, 3, pair(() => peer(large), () => ours(large), reps)],
  ['10,000 texts', 10, pair(() => smallText.forEach(peerText), () => smallText.forEach(oursText), reps)],
  [`one text (${mb} MB)`, 10, pair(() => peerText(largeText), () => oursText(largeText), reps)],
]
const peerVersion = JSON.parse(readFileSync(new URL('../node_modules/canonicalize/package.json', import.meta.url))).version
console.log(`node ${process.version}, canonicalize ${peerVersion}; objects avg ${avg.toFixed(0)} bytes of JSON; median of ${reps}`)
console.log('peer: canonicalize+crypto (objects), JSON.parse+canonicalize+crypto (texts)')
for (const [name, goal, [p, o, ratio]] of results) {
  console.log(`${name.padEnd(24)} peer ${p.toFixed(1).padStart(8)} ms   twinsync ${o.toFixed(1).padStart(8)} ms   ${ratio.toFixed(2)}x (goal ${goal}x${ratio >= goal ? '' : ', NOT MET'})`)
}
