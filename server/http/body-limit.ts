/**
 * The request size limit on every route. A Node request that declares its length (and is not
 * chunked) is judged by that header, as Hono's `bodyLimit` judges it, but without making Hono
 * build a fetch `Request` for it; any other request goes through Hono's `bodyLimit`, which
 * counts the bytes as they come.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { unreadNodeRequest } from './node-request.ts';

export function requestSizeLimit(maxBytes: number, tooLarge: () => never): MiddlewareHandler {
  const counting = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    const declared = c.req.header('content-length');
    const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    if (hasBody && declared !== undefined && c.req.header('transfer-encoding') === undefined && unreadNodeRequest(c)) {
      if (parseInt(declared, 10) > maxBytes) tooLarge();
      await next();
      return;
    }
    await counting(c, next);
  };
}
