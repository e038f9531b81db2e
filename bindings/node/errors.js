'use strict'
// Error classes of the twinsync binding, one per core error code. The native addon
// throws instances of these (registered below by index.js), with `code` set.

class TwinsyncError extends Error {
  constructor(message, code) {
    super(message)
    this.name = new.target.name
    this.code = code ?? new.target.code ?? 'UNKNOWN'
  }
}

function kind(name, code) {
  const cls = { [name]: class extends TwinsyncError {} }[name]
  cls.code = code
  return cls
}

const InvalidInputError = kind('InvalidInputError', 'INVALID_INPUT')
const NotFoundError = kind('NotFoundError', 'NOT_FOUND')
const ConflictError = kind('ConflictError', 'CONFLICT')
const LockedError = kind('LockedError', 'LOCKED')
const ExpiredError = kind('ExpiredError', 'EXPIRED')
const UnsafeError = kind('UnsafeError', 'UNSAFE')
const IoError = kind('IoError', 'IO')

const errorClasses = {
  INVALID_INPUT: InvalidInputError,
  NOT_FOUND: NotFoundError,
  CONFLICT: ConflictError,
  LOCKED: LockedError,
  EXPIRED: ExpiredError,
  UNSAFE: UnsafeError,
  IO: IoError,
}

module.exports = {
  TwinsyncError,
  InvalidInputError,
  NotFoundError,
  ConflictError,
  LockedError,
  ExpiredError,
  UnsafeError,
  IoError,
  errorClasses,
}
