/**
 * Text that cannot be stored as it is cannot break the audit chain. A lone UTF-16 surrogate
 * (`\ud800`) used to reach a hashed audit column through an offline-reveal report, so one
 * request made `verify-audit` report tampering (and hid real tampering after it). Such text is
 * now refused as bad input, and an event holding it anyway is hashed as it is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain } from '../../server/audit.ts';
import { call, createHarness, enrollMac, type Harness, type TestAgent } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('audit chain and ill-formed text (%s)', (kind) => {
  let h: Harness;
  let mac: TestAgent;

  beforeAll(async () => {
    h = await createHarness(kind);
    mac = await enrollMac(h, 'corporate');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('an offline-reveal report with a lone surrogate is refused and the chain still verifies', async () => {
    const body = `{"reveals":[{"deviceId":"${mac.deviceId}","volumeId":"vol\\ud800","version":1,"at":"2026-11-20T10:00:00.000Z","idempotencyKey":"surrogate-1"}]}`;
    const res = await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.owner.token, body);
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('invalid_input');
    expect(await verifyAuditChain(h.deps)).toMatchObject({ ok: true });
  });

  it('an agent reporting a volume name with a lone surrogate is refused', async () => {
    const res = await call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, '{"volumes":[{"ref":"disk2s1","name":"Data\\udfff","encrypted":true}]}');
    expect(res.status).toBe(400);
  });

  it('an event whose text holds a lone surrogate anyway still verifies', async () => {
    await h.deps.db.transaction().execute((trx) =>
      appendAudit(trx, h.deps, new Date().toISOString(), { actorId: 'x\ud800', actorKind: 'system', action: 'test.surrogate', volumeId: 'v\udc00', ip: '\ud83d', detail: { note: 'n\ud800' } }),
    );
    expect(await verifyAuditChain(h.deps)).toMatchObject({ ok: true });
  });
});
