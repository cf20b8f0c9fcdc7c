/** The UI's language: a Preact context holding the locale and a `useText()` hook around t(). */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { Locale } from '../lib/api/contract.ts';
import { t, type MessageId } from '../lib/i18n/index.ts';
import { en } from '../lib/i18n/en.ts';
import { formatWait } from '../lib/i18n/format.ts';
import type { FailureCode } from '../lib/client/messages.ts';

const LocaleContext = createContext<Locale>('en');

export function LocaleProvider(props: { locale: Locale; children: ComponentChildren }) {
  return <LocaleContext.Provider value={props.locale}>{props.children}</LocaleContext.Provider>;
}

export type Text = (id: MessageId, params?: Record<string, string | number>) => string;

export function useLocale(): Locale {
  return useContext(LocaleContext);
}

export function useText(): Text {
  const locale = useContext(LocaleContext);
  return (id, params) => t(locale, id, params);
}

const FAILURE_TEXT: Partial<Record<FailureCode, MessageId>> = {
  not_signed_in: 'ext.not_signed_in',
  no_vault: 'ext.no_vault',
  locked: 'ext.locked_offline',
  wrong_passphrase: 'ext.wrong_passphrase',
  weak_passphrase: 'ext.passphrase_short',
  not_cached: 'ext.not_cached',
  invalid_response: 'ext.error_generic',
  bad_state: 'ext.error_generic',
};

/**
 * A failure's text in the UI's language (the service's own message for codes we do not know).
 * With the locale, a lockout says how long to wait.
 */
export function failureText(text: Text, error: { code: FailureCode; message: string; retryAfterMs?: number }, locale?: Locale): string {
  if (error.retryAfterMs !== undefined && locale) return text('error.rate_limited_wait', { wait: formatWait(locale, error.retryAfterMs) });
  const mapped = FAILURE_TEXT[error.code];
  if (mapped) return text(mapped);
  const id = `error.${error.code}`;
  return id in en ? text(id as MessageId) : error.message;
}
