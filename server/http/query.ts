/**
 * Reading a request's query with a schema: each parameter once (a repeated one is refused),
 * an empty one counts as absent, anything else wrong is a 400 `invalid_input` naming the
 * parameter, never a value a service would choke on.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { ApiFailure } from '../errors.ts';

export function readQuery<S extends z.core.$ZodObject>(c: Context, schema: S): z.output<S> {
  const given: Record<string, string> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (values.length > 1) throw new ApiFailure(400, 'invalid_input', { field: name });
    if (values[0] !== '') given[name] = values[0];
  }
  const parsed = z.safeParse(schema, given);
  if (parsed.success) return parsed.data;
  // An unknown parameter (strict schemas) is named first, then the first wrong value.
  const issues = parsed.error.issues;
  const unknown = issues.find((issue) => issue.code === 'unrecognized_keys');
  const field = unknown?.code === 'unrecognized_keys' ? unknown.keys[0] : issues[0]?.path.map(String).join('.');
  throw new ApiFailure(400, 'invalid_input', { field: field || undefined });
}
