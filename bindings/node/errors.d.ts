/** The error codes every twinsync binding uses (see bindings/API.md). */
export type ErrorCode = 'INVALID_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'LOCKED' | 'EXPIRED' | 'UNSAFE' | 'IO'

/** Base class of every error twinsync throws; `code` says which kind. */
export declare class TwinsyncError extends Error {
  constructor(message?: string, code?: ErrorCode)
  readonly code: ErrorCode
}
/** Malformed input: JSON, key, pattern, policy or option (`INVALID_INPUT`). */
export declare class InvalidInputError extends TwinsyncError { readonly code: 'INVALID_INPUT' }
/** No such project, operation or item (`NOT_FOUND`). */
export declare class NotFoundError extends TwinsyncError { readonly code: 'NOT_FOUND' }
/** Someone else changed it; nothing was overwritten (`CONFLICT`). */
export declare class ConflictError extends TwinsyncError { readonly code: 'CONFLICT' }
/** A lock is held by someone else, or not by the caller (`LOCKED`). */
export declare class LockedError extends TwinsyncError { readonly code: 'LOCKED' }
/** An undo window has closed, or the operation was already undone (`EXPIRED`). */
export declare class ExpiredError extends TwinsyncError { readonly code: 'EXPIRED' }
/** The sync was stopped to protect data (`UNSAFE`). */
export declare class UnsafeError extends TwinsyncError { readonly code: 'UNSAFE' }
/** Storage or I/O failed (`IO`). */
export declare class IoError extends TwinsyncError { readonly code: 'IO' }
/** The classes by code. */
export declare const errorClasses: Record<ErrorCode, typeof TwinsyncError>
