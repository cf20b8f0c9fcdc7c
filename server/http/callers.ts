/**
 * Who is on the other end of a request, as the middleware resolves it and the context carries
 * it: the client behind the socket (trusted-proxy.ts) and the person behind an access token
 * (api-auth.ts).
 */
import type { UserTable } from '../db/schema.ts';
import type { UserActor } from '../services/access.ts';
import type { RequestMeta } from '../services/store-key.ts';

export type ResolvedClient = {
  /** The client's address (`in-process` for requests that never came through a socket). */
  ip: string;
  /** The request reached the service, or the trusted proxy in front of it, over https. */
  https: boolean;
  /** The host the browser addressed (`Host`, or a trusted proxy's `X-Forwarded-Host`). */
  host: string;
};

/** A person behind an access token: the row, the actor the access rules take, and request facts for the audit. */
export type ApiUser = { user: UserTable; actor: UserActor; meta: RequestMeta };
