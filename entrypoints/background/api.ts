/** The API client bound to the configured service, the stored token and the user's language. */
import { createApiClient, type ApiClient } from '../../lib/client/api-client.ts';
import { currentAccessToken, refreshAccessToken } from './auth.ts';
import { effectiveLocale, readSettings } from './settings.ts';

export async function apiClient(): Promise<ApiClient> {
  const settings = await readSettings();
  return createApiClient({
    baseUrl: settings.serviceUrl,
    getAccessToken: currentAccessToken,
    refreshAccessToken,
    locale: effectiveLocale(settings),
  });
}
