/** The API client bound to the configured service, the stored token and the user's language. */
import { createApiClient, type ApiClient } from '../../lib/client/api-client.ts';
import { currentAccessToken, refreshAccessToken } from './auth.ts';
import { effectiveLocale, readAccount, readSettings } from './settings.ts';

export async function apiClient(): Promise<ApiClient> {
  const [settings, account] = await Promise.all([readSettings(), readAccount()]);
  return createApiClient({
    baseUrl: settings.serviceUrl,
    getAccessToken: currentAccessToken,
    refreshAccessToken,
    locale: effectiveLocale(settings, account),
  });
}
