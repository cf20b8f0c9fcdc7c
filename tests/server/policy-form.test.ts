/**
 * The Policy page's forms as the service receives them: the policy form's rules (each bad field
 * a 400 and nothing written; checkboxes on only when sent as "1") and its audit event, and the
 * enrollment-token form (the owner found by email in any case, an unknown one a 404; ownership
 * corporate unless "personal"; an empty label "device"), each token audited with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, portalLogin, postForm, type Harness } from './harness.ts';

const GOOD = { supportContact: 'it@test.example', checkinThresholdMinutes: '90', offlineCache: 'metadata', escrowEnabled: '1' };

describe.each(['sqlite', 'postgres'] as const)('policy page forms (%s)', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  const org = () => h.deps.db.selectFrom('org').select(['support_contact', 'escrow_enabled', 'rotate_after_reveal', 'checkin_threshold_minutes', 'offline_cache']).executeTakeFirstOrThrow();
  const events = (action: string) => h.deps.db.selectFrom('audit_events').select(['detail', 'actor_id']).where('action', '=', action).orderBy('seq').execute();

  it('saves the policy with one audit event naming every value', async () => {
    const admin = await portalLogin(h, h.people.admin.id);
    const before = (await events('policy.changed')).length;
    const res = await postForm(h.app, '/admin/policy', admin, { ...GOOD, supportContact: '  it@test.example  ', rotateAfterReveal: 'yes' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/policy?saved=1');
    const expected = { support_contact: 'it@test.example', escrow_enabled: 1, rotate_after_reveal: 0, checkin_threshold_minutes: 90, offline_cache: 'metadata' };
    expect(await org()).toEqual(expected);
    const saved = await events('policy.changed');
    expect(saved).toHaveLength(before + 1);
    expect(JSON.parse(saved[saved.length - 1].detail)).toEqual(expected);
    expect(saved[saved.length - 1].actor_id).toBe(h.people.admin.id);
  });

  it.each([
    ['a threshold that is not a number', { checkinThresholdMinutes: 'soon' }],
    ['a threshold of 0 minutes', { checkinThresholdMinutes: '0' }],
    ['a threshold over a year', { checkinThresholdMinutes: '525601' }],
    ['a threshold with a fraction', { checkinThresholdMinutes: '1.5' }],
    ['an empty support contact', { supportContact: '   ' }],
    ['a support contact over 300 characters', { supportContact: 'c'.repeat(301) }],
    ['an unknown offline cache', { offlineCache: 'everything' }],
  ])('refuses %s with 400 and changes nothing', async (_name, change) => {
    const admin = await portalLogin(h, h.people.admin.id);
    const [orgBefore, eventsBefore] = [await org(), (await events('policy.changed')).length];
    const res = await postForm(h.app, '/admin/policy', admin, { ...GOOD, supportContact: 'changed@test.example', ...change });
    expect(res.status).toBe(400);
    expect(await org()).toEqual(orgBefore);
    expect(await events('policy.changed')).toHaveLength(eventsBefore);
  });

  it('makes an enrollment token for an owner named in any case, corporate and "device" unless told otherwise', async () => {
    const admin = await portalLogin(h, h.people.admin.id);
    const res = await postForm(h.app, '/admin/enrollment-tokens', admin, { ownerEmail: ` ${h.people.owner.email.toUpperCase()} `, ownership: 'anything', label: '  ' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('id="enroll-command"');
    const token = await h.deps.db.selectFrom('enrollment_tokens').select(['owner_id', 'ownership', 'label']).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(token).toEqual({ owner_id: h.people.owner.id, ownership: 'corporate', label: 'device' });
    const created = await events('enrollment_token.created');
    expect(JSON.parse(created[created.length - 1].detail)).toEqual({ ownerId: h.people.owner.id, ownership: 'corporate', label: 'device' });
  });

  it('answers 404 for an owner nobody has, and makes no token', async () => {
    const admin = await portalLogin(h, h.people.admin.id);
    const before = (await events('enrollment_token.created')).length;
    const res = await postForm(h.app, '/admin/enrollment-tokens', admin, { ownerEmail: 'nobody@test.example', ownership: 'personal', label: 'Laptop' });
    expect(res.status).toBe(404);
    expect(await events('enrollment_token.created')).toHaveLength(before);
  });

  it('is for admins only: helpdesk gets 403 on both forms', async () => {
    const helpdesk = await portalLogin(h, h.people.helpdesk.id);
    expect((await postForm(h.app, '/admin/policy', helpdesk, GOOD)).status).toBe(403);
    expect((await postForm(h.app, '/admin/enrollment-tokens', helpdesk, { ownerEmail: h.people.owner.email, ownership: 'personal', label: 'x' })).status).toBe(403);
  });
});
