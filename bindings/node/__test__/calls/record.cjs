'use strict'
// Preloaded into every test process by test.sh (`node --require`), this records which of
// the package's exports the tests really call, so that "every export is called" is a fact
// about the run rather than a guess from reading sources. It wraps, in place, the objects
// the package's CommonJS entry exports (the ES module entry re-exports the same objects,
// so both entries are covered): functions, class methods and getters are recorded when
// called, error classes when a test checks `instanceof` against them (as `assert.throws`
// and `assert.rejects` do), and the plain objects (`errorCodes`, `errorClasses`) when a
// member is read. Only calls from outside the package count: a wrapped export called by
// another one (`Watch.return` calling `stop`) is not a test calling it.
// At exit each process writes what it saw to $TWINSYNC_CALLS_DIR/<pid>.json, which
// every-export-called.mjs reads.
const { writeFileSync } = require('node:fs')
const { join, basename } = require('node:path')

const dir = process.env.TWINSYNC_CALLS_DIR
// The exports test enumerates the module; looking is not calling.
if (dir && basename(process.argv[1] || '') !== 'exports.test.mjs') {
  const mod = require(join(__dirname, '..', '..', 'index.js'))
  const seen = new Set()
  let depth = 0
  const record = (name) => {
    if (depth === 0) seen.add(name)
  }
  const wrap = (name, fn) =>
    function (...args) {
      record(name)
      depth++
      try {
        return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args)
      } finally {
        depth--
      }
    }
  const isClass = (name, value) => typeof value === 'function' && /^[A-Z]/.test(name)

  for (const [name, value] of Object.entries(mod)) {
    if (name.startsWith('__')) continue
    if (isClass(name, value) && (value === Error || value.prototype instanceof Error)) {
      const plain = Function.prototype[Symbol.hasInstance]
      Object.defineProperty(value, Symbol.hasInstance, {
        value(v) {
          record(name)
          return plain.call(this, v)
        },
      })
    } else if (isClass(name, value)) {
      for (const member of Object.getOwnPropertyNames(value.prototype)) {
        if (member === 'constructor') continue
        const d = Object.getOwnPropertyDescriptor(value.prototype, member)
        const full = `${name}.${member}`
        if (d.get) {
          Object.defineProperty(value.prototype, member, { ...d, get: wrap(full, d.get) })
        } else if (typeof d.value === 'function') {
          Object.defineProperty(value.prototype, member, { ...d, value: wrap(full, d.value) })
        }
      }
      // The class itself is used when a test gets an instance and calls into it, or
      // checks `instanceof` against it.
      const plain = Function.prototype[Symbol.hasInstance]
      Object.defineProperty(value, Symbol.hasInstance, {
        value(v) {
          record(name)
          return plain.call(this, v)
        },
      })
      for (const member of Object.getOwnPropertyNames(value.prototype)) {
        const d = Object.getOwnPropertyDescriptor(value.prototype, member)
        if (member === 'constructor' || !(d.get || typeof d.value === 'function')) continue
        const inner = d.get || d.value
        const outer = function (...args) {
          if (depth === 0) seen.add(name)
          return inner.apply(this, args)
        }
        Object.defineProperty(value.prototype, member, d.get ? { ...d, get: outer } : { ...d, value: outer })
      }
    } else if (typeof value === 'function') {
      mod[name] = wrap(name, value)
    } else if (value && typeof value === 'object') {
      mod[name] = new Proxy(value, {
        get(target, key, receiver) {
          record(name)
          return Reflect.get(target, key, receiver)
        },
      })
    }
  }

  process.on('exit', () => {
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify([...seen].sort()))
  })
}
