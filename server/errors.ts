/**
 * Error answers: `{ error: { code, message, field? } }` with the message in the caller's
 * language. Services throw `ApiFailure`; the app's error handler turns it into the answer.
 */
import type { ErrorCode, Locale } from '../lib/api/contract.ts';
import { t } from '../lib/i18n/index.ts';

export type FailureStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500;

export class ApiFailure extends Error {
  readonly status: FailureStatus;
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly params: Record<string, string | number>;
  /** A precise, already localized message (e.g. which group of a key is wrong). */
  readonly detail: string | undefined;
  /** Extra answer headers (`Retry-After` on a 429). */
  readonly headers: Record<string, string>;

  constructor(status: FailureStatus, code: ErrorCode, options: { field?: string; params?: Record<string, string | number>; detail?: string; headers?: Record<string, string> } = {}) {
    super(code);
    this.status = status;
    this.code = code;
    this.field = options.field;
    this.params = options.params ?? {};
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

export function errorBody(locale: Locale, code: ErrorCode, options: { field?: string; params?: Record<string, string | number>; detail?: string } = {}) {
  const message = options.detail ?? t(locale, `error.${code}`, options.params);
  return { error: { code, message, ...(options.field ? { field: options.field } : {}) } };
}
