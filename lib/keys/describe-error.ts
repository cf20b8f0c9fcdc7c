/** Turns a KeyError into one precise sentence in the reader's language (key-error-message.ts says which). */
import type { KeyKind, Locale } from '../api/contract.ts';
import { t } from '../i18n/index.ts';
import type { KeyError } from './errors.ts';
import { keyErrorMessage } from './key-error-message.ts';

export function describeKeyError(locale: Locale, kind: KeyKind, error: KeyError): string {
  const message = keyErrorMessage(locale, kind, error);
  return t(locale, message.id, message.params);
}
