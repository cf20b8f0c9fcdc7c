/**
 * The UI's language: a Preact context holding the locale and its message table, a `useText()`
 * hook to read messages, and the loading of a locale's table (an extension page reads its own
 * copy; the portal content script asks the background, as it cannot read extension files).
 */
import { createContext } from 'preact';
import { useContext, useMemo, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { browser } from 'wxt/browser';
import type { Locale } from '../lib/api/contract.ts';
import type { ExtensionMessageId } from '../lib/i18n/extension/en.ts';
import { fetchMessageTable, hasMessage, lookUp, type MessageTable } from '../lib/i18n/extension/table.ts';
import type { MessageParams } from '../lib/i18n/fill.ts';
import { formatWait } from '../lib/i18n/format.ts';
import type { FailureCode } from '../utils/client/messages.ts';

export type Messages = { locale: Locale; table: MessageTable };

const MessagesContext = createContext<Messages>({ locale: 'en', table: {} });

export function LocaleProvider(props: { locale: Locale; table: MessageTable; children: ComponentChildren }) {
  const value = useMemo(() => ({ locale: props.locale, table: props.table }), [props.locale, props.table]);
  return <MessagesContext.Provider value={value}>{props.children}</MessagesContext.Provider>;
}

export type Text = {
  (id: ExtensionMessageId, params?: MessageParams): string;
  /** Whether a computed id (e.g. `error.${code}`) names a message. */
  has(id: string): id is ExtensionMessageId;
};

/** The messages of one table as a Text. */
export function textFrom(table: MessageTable): Text {
  const text = (id: ExtensionMessageId, params?: MessageParams) => lookUp(table, id, params);
  return Object.assign(text, { has: (id: string): id is ExtensionMessageId => hasMessage(table, id) });
}

export function useLocale(): Locale {
  return useContext(MessagesContext).locale;
}

export function useText(): Text {
  const { table } = useContext(MessagesContext);
  return useMemo(() => textFrom(table), [table]);
}

/**
 * Messages that can switch language: the new locale shows once its table has loaded, so a page
 * never mixes two languages; of quick successive switches, the last one wins.
 */
export function useSwitchableMessages(initial: Messages): [Messages, (locale: Locale) => void] {
  const [messages, setMessages] = useState(initial);
  const wanted = useRef(initial.locale);
  function switchTo(locale: Locale) {
    wanted.current = locale;
    if (locale === messages.locale) return;
    void loadMessageTable(locale).then((table) => {
      if (wanted.current !== locale) return;
      document.documentElement.lang = locale;
      setMessages({ locale, table });
    });
  }
  return [messages, switchTo];
}

/** A locale's message table, read from the extension's own files (extension pages only). */
export function loadMessageTable(locale: Locale): Promise<MessageTable> {
  return fetchMessageTable(locale, browser.runtime.getURL('/'));
}

const FAILURE_TEXT: Partial<Record<FailureCode, ExtensionMessageId>> = {
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
  return text.has(id) ? text(id) : error.message;
}
