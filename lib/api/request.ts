/**
 * The HTTP request for a call of an endpoint of the table (endpoints.ts) — method, path with
 * its parameters filled in and the query appended, JSON body. Both clients send what this
 * prepares over their own transport and check the answer with the endpoint's schema.
 */
import type { EndpointSpec, HttpMethod } from './endpoints.ts';

export type PreparedRequest = {
  method: HttpMethod;
  /** Path and query, to resolve against the service's origin. */
  path: string;
  /** JSON text, or undefined for an endpoint without a body. */
  body: string | undefined;
};

/** A request of any endpoint: what the typed callers (`EndpointRequest<E>`) pass on. */
export type AnyEndpointRequest = {
  params?: { readonly [name: string]: string };
  body?: unknown;
  query?: { readonly [name: string]: unknown };
};

export function prepareRequest(endpoint: EndpointSpec, request: AnyEndpointRequest): PreparedRequest {
  const params = request.params ?? {};
  const path = endpoint.path.replace(/:([A-Za-z][A-Za-z0-9]*)/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${endpoint.method} ${endpoint.path}: path parameter ${name} is missing`);
    return encodeURIComponent(value);
  });
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined && value !== '') query.set(name, String(value));
  }
  const queryText = query.toString();
  return {
    method: endpoint.method,
    path: queryText ? `${path}?${queryText}` : path,
    body: endpoint.body ? JSON.stringify(request.body ?? {}) : undefined,
  };
}
