import type { HashOptions } from './native'

export * from './native'
export * from './errors'
export * from './types'

// Defined in index.js (JSON.stringify runs in JS, then the `…Json` form of the addon).

/** `sha256:<hex>` of the canonical JSON of a JS value (read as `JSON.stringify` reads it), as `twinsync hash` prints it. */
export declare function canonicalHash(value: unknown, options?: HashOptions | undefined | null): string

/** RFC 8785 canonical JSON text of a JS value (read as `JSON.stringify` reads it). */
export declare function canonicalize(value: unknown, options?: HashOptions | undefined | null): string

// index.js makes a Watch an async iterator of its notes; leaving a `for await` loop stops it.
declare module './native' {
  interface Watch extends AsyncIterableIterator<import('./types').WatchNote> {
    return(): Promise<IteratorResult<import('./types').WatchNote, undefined>>
  }
}
