/**
 * The single sign-on settings form (the portal's and `keyward sso set`'s): what each field
 * accepts, how values are normalised, and which field a refusal names — the first wrong one in
 * the order the form shows them.
 */
import { describe, expect, it } from 'vitest';
import { parseSsoForm } from '../../server/auth/oidc-settings.ts';

const GOOD: Record<string, string> = {
  enabled: '1',
  name: ' Example ID ',
  issuer: 'https://login.example.com/tenant//',
  clientId: ' keyward ',
  clientAuth: 'client_secret_basic',
  clientSecret: ' s3cret ',
  keyId: '',
  redirectUri: 'https://keyward.example.com/sso/callback',
  scopes: ' openid  email\nprofile ',
  roleClaim: 'groups',
  adminValues: 'it-admins\nit-admins, security',
  helpdeskValues: '',
  maxSessionHours: '12',
  localPasswords: '1',
  breakGlass: ' Admin@Example.COM ',
};

function refusedField(form: Record<string, string>): unknown {
  try {
    parseSsoForm(form);
  } catch (error) {
    return error instanceof Error && 'field' in error ? error.field : 'not an ApiFailure';
  }
  return 'accepted';
}

describe('the single sign-on settings form', () => {
  it('normalises what it accepts', () => {
    expect(parseSsoForm(GOOD)).toEqual({
      enabled: true,
      name: 'Example ID',
      issuer: 'https://login.example.com/tenant',
      clientId: 'keyward',
      clientAuth: 'client_secret_basic',
      credential: ' s3cret ',
      keyId: '',
      redirectUri: 'https://keyward.example.com/sso/callback',
      scopes: 'openid email profile',
      roleClaim: 'groups',
      adminValues: ['it-admins', 'security'],
      helpdeskValues: [],
      maxSessionHours: 12,
      localPasswords: true,
      breakGlassEmail: 'admin@example.com',
    });
    expect(parseSsoForm({ ...GOOD, enabled: 'yes', localPasswords: '', issuer: 'http://127.0.0.1:9000' })).toEqual(expect.objectContaining({ enabled: false, localPasswords: false, issuer: 'http://127.0.0.1:9000' }));
  });

  it.each([
    ['name', { name: ' ' }],
    ['name', { name: 'n'.repeat(61) }],
    ['issuer', { issuer: '' }],
    ['issuer', { issuer: 'http://login.example.com' }],
    ['issuer', { issuer: 'https://login.example.com/?tenant=1' }],
    ['issuer', { issuer: 'https://user:pw@login.example.com' }],
    ['issuer', { issuer: `https://login.example.com/${'p'.repeat(300)}` }],
    ['clientId', { clientId: '' }],
    ['clientAuth', { clientAuth: 'none' }],
    ['clientSecret', { clientSecret: 's'.repeat(10_001) }],
    ['privateKey', { clientAuth: 'private_key_jwt', privateKey: 'not a key' }],
    ['keyId', { keyId: 'k'.repeat(101) }],
    ['redirectUri', { redirectUri: 'https://keyward.example.com/sso/callback#x' }],
    ['scopes', { scopes: 'email profile' }],
    ['scopes', { scopes: 'openid "quoted"' }],
    ['scopes', { scopes: ['openid', ...Array.from({ length: 20 }, (_, i) => `s${i}`)].join(' ') }],
    ['roleClaim', { roleClaim: '' }],
    ['maxSessionHours', { maxSessionHours: '0' }],
    ['maxSessionHours', { maxSessionHours: '721' }],
    ['maxSessionHours', { maxSessionHours: 'soon' }],
    ['adminValues', { adminValues: 'v'.repeat(201) }],
    ['helpdeskValues', { helpdeskValues: Array.from({ length: 51 }, (_, i) => `g${i}`).join('\n') }],
  ])('names %s when it is wrong', (field, change) => {
    expect(refusedField({ ...GOOD, ...change })).toBe(field);
  });

  it('names the first wrong field when several are', () => {
    expect(refusedField({ ...GOOD, name: '', maxSessionHours: '0' })).toBe('name');
    expect(refusedField({ ...GOOD, clientAuth: 'private_key_jwt', privateKey: 'not a key', keyId: 'k'.repeat(101) })).toBe('privateKey');
    expect(refusedField({ ...GOOD, clientSecret: 's'.repeat(10_001), scopes: '' })).toBe('clientSecret');
    expect(refusedField({ ...GOOD, maxSessionHours: '0', adminValues: 'v'.repeat(201) })).toBe('maxSessionHours');
  });
});
