/**
 * The private key Keyward signs its client assertions with when it authenticates to the
 * provider with `private_key_jwt` (OpenID Connect Core §9, RFC 7523): a PKCS#8 PEM key, RSA
 * (2048 bits or more, RS256), EC P-256 (ES256) or P-384 (ES384), or Ed25519 (EdDSA). Its public
 * half is published as a JWK set for the provider to register or fetch.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

export type ClientKeyAlgorithm = 'RS256' | 'ES256' | 'ES384' | 'EdDSA';

type Parsed = { key: KeyObject; alg: ClientKeyAlgorithm };

/** The key and its JWS algorithm, or null when `pem` is no private key Keyward can sign with. */
function parse(pem: string): Parsed | null {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return null;
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return (details.modulusLength ?? 0) >= 2048 ? { key, alg: 'RS256' } : null;
    case 'ec':
      return details.namedCurve === 'prime256v1' ? { key, alg: 'ES256' } : details.namedCurve === 'secp384r1' ? { key, alg: 'ES384' } : null;
    case 'ed25519':
      return { key, alg: 'EdDSA' };
    default:
      return null;
  }
}

export function isUsableClientKey(pem: string): boolean {
  return parse(pem) !== null;
}

const SUBTLE_ALGORITHMS: Record<ClientKeyAlgorithm, RsaHashedImportParams | EcKeyImportParams | Algorithm> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384' },
  EdDSA: { name: 'Ed25519' },
};

/** The key as a non-extractable signing CryptoKey (what openid-client's PrivateKeyJwt takes). */
export async function signingKey(pem: string): Promise<CryptoKey> {
  const parsed = parse(pem);
  if (!parsed) throw new Error('the stored client key is not a usable private key');
  const der = parsed.key.export({ format: 'der', type: 'pkcs8' });
  return crypto.subtle.importKey('pkcs8', der, SUBTLE_ALGORITHMS[parsed.alg], false, ['sign']);
}

export type PublicJwk = Record<string, string>;

/** The public half as a JWK (with `kid` when one is set), for the provider's client registration. */
export function publicJwk(pem: string, kid: string): PublicJwk | null {
  const parsed = parse(pem);
  if (!parsed) return null;
  const jwk = createPublicKey(parsed.key).export({ format: 'jwk' });
  const fields: PublicJwk = {};
  for (const [name, value] of Object.entries(jwk)) if (typeof value === 'string') fields[name] = value;
  return { ...fields, use: 'sig', alg: parsed.alg, ...(kid ? { kid } : {}) };
}
