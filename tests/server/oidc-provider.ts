/**
 * A real OpenID Connect provider for the single sign-on tests: `oidc-provider` on 127.0.0.1,
 * with its own signing key, a few people (claims and groups the test changes at will), the
 * clients Keyward is registered as (client secret and private_key_jwt), and a login step that
 * signs in whoever the test says is at the keyboard. `tamper` turns it into a provider whose
 * token answers were altered in transit (an ID token whose `sub` was changed after signing).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';

export type Person = { sub: string; email: string; name: string; groups: string[] };

export type TestProvider = {
  issuer: string;
  people: Map<string, Person>;
  /** Who signs in at the provider's login step next. */
  signInAs(sub: string): void;
  /** `sub`: the token endpoint's ID token gets another `sub` after it was signed. */
  tamper: 'none' | 'sub';
  stop(): Promise<void>;
};

export type ProviderOptions = { clients: ClientMetadata[]; people: Person[]; idTokenSeconds?: number };

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

/** Rewrites the JSON body the provider sends on `res` (the token endpoint's answer). */
function rewriteBody(res: ServerResponse, rewrite: (body: string) => string): void {
  const chunks: Buffer[] = [];
  const end = res.end.bind(res);
  res.write = ((chunk: string | Buffer) => {
    chunks.push(Buffer.from(chunk));
    return true;
  }) as ServerResponse['write'];
  res.end = ((chunk?: string | Buffer | (() => void)) => {
    if (chunk !== undefined && typeof chunk !== 'function') chunks.push(Buffer.from(chunk));
    const body = rewrite(Buffer.concat(chunks).toString('utf8'));
    res.setHeader('content-length', Buffer.byteLength(body));
    return end(body);
  }) as ServerResponse['end'];
}

/** The ID token with `sub` changed and its original signature kept: a forgery. */
function forgeSub(body: string): string {
  const json = JSON.parse(body) as { id_token?: string };
  if (!json.id_token) return body;
  const [header, payload, signature] = json.id_token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  claims.sub = 'someone-else';
  json.id_token = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
  return JSON.stringify(json);
}

export async function startTestProvider(options: ProviderOptions): Promise<TestProvider> {
  const people = new Map(options.people.map((p) => [p.sub, p]));
  let current = options.people[0]?.sub ?? '';
  const front = createServer();
  const port = await listen(front);
  const issuer = `http://127.0.0.1:${port}`;
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  const configuration: Configuration = {
    clients: options.clients,
    jwks: { keys: [{ ...signing, kid: 'test-signing-key', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: { IdToken: options.idTokenSeconds ?? 3600, AccessToken: 600, Interaction: 600, Grant: 600, Session: 3600 },
    async findAccount(_ctx, sub) {
      const person = people.get(sub);
      if (!person) return undefined;
      return { accountId: sub, claims: () => ({ sub, email: person.email, email_verified: true, name: person.name, groups: person.groups }) };
    },
    // No consent screen: the organisation's own provider has Keyward pre-approved.
    async loadExistingGrant(ctx) {
      const accountId = ctx.oidc.session?.accountId;
      const clientId = ctx.oidc.client?.clientId;
      if (!accountId || !clientId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
      grant.addOIDCScope('openid email profile groups');
      await grant.save();
      return grant;
    },
  };
  const provider = new Provider(issuer, configuration);
  const handle = provider.callback();
  const state: TestProvider = {
    issuer,
    people,
    signInAs: (sub) => {
      current = sub;
    },
    tamper: 'none',
    stop: () =>
      new Promise<void>((resolve) => {
        front.close(() => resolve());
        front.closeAllConnections();
      }),
  };

  front.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path.startsWith('/interaction/')) {
      void provider
        .interactionFinished(req, res, { login: { accountId: current } }, { mergeWithLastSubmission: false })
        .catch(() => {
          res.statusCode = 400;
          res.end('interaction failed');
        });
      return;
    }
    if (path === '/token' && state.tamper === 'sub') rewriteBody(res, forgeSub);
    void handle(req, res);
  });
  return state;
}
