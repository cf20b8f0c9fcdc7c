/**
 * The person's language, one choice for extension and portal (issue #9). A language picked in
 * the options is saved to the account, so the portal shows it too; "Same as the browser"
 * (null) clears the account's choice, so both follow their browser again. A language picked on
 * the portal reaches the extension with the next sync and replaces the one in the options.
 * A pick the service did not get (offline) is sent again at the next sync.
 */
import type { Locale } from '../../lib/api/contract.ts';
import type { ApiClient } from '../../utils/client/api-client.ts';
import type { Done } from '../../utils/client/messages.ts';
import { apiClient } from './api.ts';
import { isSignedIn } from './auth.ts';
import { readSettings, writeSettings } from './settings.ts';
import { accountItem, type AccountInfo } from './storage-items.ts';

/** Saves a pick made in the options to the account (signed in only). */
export async function saveLocaleChoice(locale: Locale | null): Promise<Done> {
  if (!(await isSignedIn())) return { ok: true };
  return sendToAccount(await apiClient(), locale);
}

/**
 * At sync, with the account as it was before (`previous`) and the language the service has now:
 * a change made on the portal wins; otherwise a pick the service lacks is sent to it.
 */
export async function reconcileLocale(api: ApiClient, previous: AccountInfo | null, accountLocale: Locale | null): Promise<void> {
  const changedOnPortal = previous ? previous.locale !== accountLocale : accountLocale !== null;
  const { locale: picked } = await readSettings();
  if (changedOnPortal) await writeSettings({ locale: accountLocale });
  else if (picked !== accountLocale) await sendToAccount(api, picked);
}

async function sendToAccount(api: ApiClient, locale: Locale | null): Promise<Done> {
  const saved = await api.setLocale(locale);
  if (!saved.ok) return saved;
  const account = await accountItem.getValue();
  if (account) await accountItem.setValue({ ...account, locale });
  return { ok: true };
}
