/** Every error the domain can raise; `api` maps each to one HTTP status. */
export type ErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'VALIDATION'
  | 'POLICY'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/** The one error type domain code throws. `message` is a sentence a person can act on. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

export const notFound = (what: string, id: string) =>
  new AppError('NOT_FOUND', `${what} '${id}' does not exist`, { [what]: id });

export const validation = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('VALIDATION', message, details);

/** A valid key whose role or stacks do not allow the request (403). */
export const forbidden = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('FORBIDDEN', message, details);

export const conflict = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('CONFLICT', message, details);
