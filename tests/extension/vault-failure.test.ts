/** Every vault error becomes one UI failure code in one step; a lockout says how long it lasts. */
import { describe, expect, it } from 'vitest';
import { vaultFailure } from '../../entrypoints/background/vault-failure.ts';
import type { VaultErrorCode } from '../../utils/vault/index.ts';

describe('vault failures', () => {
  it('map each vault error code to the code the pages translate', () => {
    const codes: Record<VaultErrorCode, string> = {
      wrong_passphrase: 'wrong_passphrase', locked_out: 'rate_limited', passphrase_too_short: 'weak_passphrase', not_initialized: 'no_vault',
      already_initialized: 'bad_state', locked: 'locked', kdf_too_weak: 'bad_state', record_corrupt: 'bad_state', session_invalid: 'bad_state',
      vault_changed: 'bad_state', invalid_input: 'bad_state',
    };
    for (const [vaultCode, uiCode] of Object.entries(codes)) {
      const answer = vaultFailure(vaultCode as VaultErrorCode, null);
      expect(answer.error.code, vaultCode).toBe(uiCode);
      expect(answer.error.retryAfterMs, vaultCode).toBeUndefined();
    }
  });

  it('a wrong passphrase that starts a lockout, and a refused unlock during one, say how long it lasts', () => {
    const now = Date.UTC(2026, 10, 22, 12);
    expect(vaultFailure('wrong_passphrase', now + 10_000, now)).toEqual({ ok: false, error: { code: 'rate_limited', message: expect.any(String), retryAfterMs: 10_000 } });
    expect(vaultFailure('locked_out', now + 2_500, now).error).toMatchObject({ code: 'rate_limited', retryAfterMs: 2_500 });
    expect(vaultFailure('locked_out', now - 1, now).error.retryAfterMs).toBe(0);
  });
});
