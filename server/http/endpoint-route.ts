/**
 * Routes mounted from the endpoint table (lib/api/endpoints.ts): the endpoint's auth
 * middleware runs first, then any guard the route adds (e.g. a rate limit that must count
 * even a bad request), then the body and query are read with the endpoint's schemas. The
 * handler gets them validated and typed, with the caller, and returns the endpoint's answer,
 * sent with the endpoint's status.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { EndpointReply, EndpointSpec, PathParams, ValidBody, ValidQuery } from '../../lib/api/endpoints.ts';
import type { AppDeps } from '../deps.ts';
import { authMiddleware, type CallerOf } from './api-auth.ts';
import type { ApiUser } from './callers.ts';
import type { AppEnv } from './context.ts';
import { readJson, readJsonOrForm } from './body.ts';
import { readQuery } from './query.ts';
import type { DeviceTable } from '../db/schema.ts';

export type HandlerInput<E extends EndpointSpec> = {
  c: Context<AppEnv>;
  params: PathParams<E>;
  body: ValidBody<E>;
  query: ValidQuery<E>;
  caller: CallerOf<E['auth']>;
};

export type EndpointHandler<E extends EndpointSpec> = (input: HandlerInput<E>) => Promise<EndpointReply<E>>;

export type RouteOptions = {
  /** Run after authentication and before the body is read. */
  before?: readonly MiddlewareHandler<AppEnv>[];
};

type AnyHandlerInput = {
  c: Context<AppEnv>;
  params: Record<string, string>;
  body: unknown;
  query: unknown;
  caller: ApiUser | DeviceTable | null;
};

export type EndpointRouter = {
  router: Hono<AppEnv>;
  mount<E extends EndpointSpec>(endpoint: E, handle: EndpointHandler<E>, options?: RouteOptions): void;
};

export function endpointRouter(deps: AppDeps): EndpointRouter {
  const router = new Hono<AppEnv>();
  const auth = authMiddleware(deps);
  const maxBytes = deps.config.maxBodyBytes;

  function callerOf(c: Context<AppEnv>, endpoint: EndpointSpec): ApiUser | DeviceTable | null {
    if (endpoint.auth === 'user-bearer') return c.get('apiUser');
    if (endpoint.auth === 'agent-credential') return c.get('agentDevice');
    return null;
  }

  async function readBody(c: Context<AppEnv>, endpoint: EndpointSpec): Promise<unknown> {
    const body = endpoint.body;
    if (!body) return undefined;
    if (body.encoding === 'json-or-form') return readJsonOrForm(c, body.schema, maxBytes);
    return readJson(c, body.schema, maxBytes, body.optional ?? false);
  }

  function mount<E extends EndpointSpec>(endpoint: E, handle: EndpointHandler<E>, options?: RouteOptions): void;
  function mount(endpoint: EndpointSpec, handle: (input: AnyHandlerInput) => Promise<unknown>, options: RouteOptions = {}): void {
    const route: MiddlewareHandler<AppEnv> = async (c) => {
      const body = await readBody(c, endpoint);
      const query = endpoint.query ? readQuery(c, endpoint.query) : undefined;
      const answer = await handle({ c, params: c.req.param(), body, query, caller: callerOf(c, endpoint) });
      return c.json(answer, endpoint.response.status);
    };
    const [first, ...rest] = [...auth[endpoint.auth], ...(options.before ?? []), route];
    router.on(endpoint.method, endpoint.path, first, ...rest);
  }

  return { router, mount };
}
