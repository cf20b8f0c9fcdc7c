/** The API client bound to the configured service, the stored token and the user's language. */
import { createApiClient, type ApiClient } from '../../utils/client/api-client.ts';
import { currentAccessToken, refreshAccessToken } from './auth.ts';
import { effectiveLocale, readSettings } from './settings.ts';
import { accountItem } from './storage-items.ts';

export async function apiClient(): Promise<ApiClient> {
  const [settings, account] = await Promise.all([readSettings(), accountItem.getValue()]);
  return createApiClient({
    baseUrl: settings.serviceUrl,
    getAccessToken: currentAccessToken,
    refreshAccessToken,
    locale: effectiveLocale(settings, account),
  });
}
