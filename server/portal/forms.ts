/**
 * Parsing the portal's posted forms with zod. A form's fields are strings or absent; a schema
 * says what each means. A field that fails is a 400 `invalid_input` naming it (the first one in
 * the schema's order), which the error page shows in the reader's language.
 */
import { z } from 'zod';
import { ApiFailure } from '../errors.ts';

/** A field as sent, '' when absent. */
export const text = () => z.string().optional().transform((value) => value ?? '');

/** A field without surrounding white space, '' when absent. */
export const trimmed = () => text().transform((value) => value.trim());

/** A checkbox sent as `value="1"`. */
export const checkbox = () => text().transform((value) => value === '1');

/** A field that may be left empty: undefined then. */
export const optionalText = () => text().transform((value) => value || undefined);

export function parseForm<S extends z.ZodType>(schema: S, form: Record<string, string>): z.infer<S> {
  const parsed = schema.safeParse(form);
  if (!parsed.success) throw new ApiFailure(400, 'invalid_input', { field: parsed.error.issues[0]?.path.map(String).join('.') || undefined });
  return parsed.data;
}
