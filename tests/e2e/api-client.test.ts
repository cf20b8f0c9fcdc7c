/**
 * The extension's typed API client (utils/client) against the real escrow service: OAuth code
 * + PKCE sign-in, typed answers, typed errors (`{ code, message }`), a refreshed access token
 * on 401 with rotating refresh tokens, and `network` when the service cannot be reached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../utils/client/api-client.ts';
import { createPkceRequest, exchangeCode, refreshTokens } from '../../utils/client/oauth.ts';
import { authorizeOverHttp, signInOverHttp, TEST_REDIRECT_URI } from '../support/oauth-http.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.close();
});

describe('API client', () => {
  it('signs in with code + PKCE and reads the account and devices', async () => {
    const tokens = await signInOverHttp(service.url, DEMO_USER);
    const api = createApiClient({ baseUrl: service.url, getAccessToken: async () => tokens.accessToken });
    const me = await api.me();
    expect(me.ok && me.data.user.email).toBe(DEMO_USER.email);
    const list = await api.listDevices();
    expect(list.ok && list.data.devices.map((d) => d.name)).toContain('Personal MacBook (simulated)');
  });

  it('refuses a code redeemed with the wrong verifier', async () => {
    const pkce = await createPkceRequest();
    const code = await authorizeOverHttp(service.url, DEMO_USER, pkce);
    const other = await createPkceRequest();
    const result = await exchangeCode(service.url, code, TEST_REDIRECT_URI, other.verifier);
    expect(result.ok ? null : result.error.code).toBe('invalid_grant');
  });

  it('refreshes the access token once on 401, and a reused refresh token is refused', async () => {
    const tokens = await signInOverHttp(service.url, DEMO_USER);
    let accessToken = 'kwt_expired-or-revoked';
    let refreshes = 0;
    const api = createApiClient({
      baseUrl: service.url,
      getAccessToken: async () => accessToken,
      refreshAccessToken: async () => {
        refreshes += 1;
        const fresh = await refreshTokens(service.url, tokens.refreshToken!);
        if (!fresh.ok) return null;
        accessToken = fresh.data.accessToken;
        return accessToken;
      },
    });
    const me = await api.me();
    expect(me.ok).toBe(true);
    expect(refreshes).toBe(1);
    const reused = await refreshTokens(service.url, tokens.refreshToken!);
    expect(reused.ok ? null : reused.error.code).toBe('invalid_grant');
  });

  it('turns error answers into typed errors with a message', async () => {
    const tokens = await signInOverHttp(service.url, DEMO_USER);
    const api = createApiClient({ baseUrl: service.url, getAccessToken: async () => tokens.accessToken, locale: 'sv' });
    const missing = await api.getDevice('no-such-device');
    expect(missing.ok ? null : missing.error.code).toBe('not_found');
    const personal = fleetDevice(service, 'Personal MacBook');
    const mismatch = await api.storeKey(personal.deviceId, { key: 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPY', confirmKey: 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPZ' });
    expect(mismatch.ok ? null : mismatch.error.code).toBe('keys_mismatch');
    expect(mismatch.ok ? '' : mismatch.error.message.length).toBeGreaterThan(10);
    const anonymous = createApiClient({ baseUrl: service.url, getAccessToken: async () => null });
    const me = await anonymous.me();
    expect(me.ok ? null : me.error.code).toBe('unauthenticated');
  });

  it('reports `network` when the service cannot be reached', async () => {
    const api = createApiClient({ baseUrl: 'http://127.0.0.1:9', getAccessToken: async () => 'x' });
    const me = await api.me();
    expect(me.ok ? null : me.error.code).toBe('network');
  });
});
