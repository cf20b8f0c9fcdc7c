/**
 * Reading request bodies safely: content type, size limit and schema are checked before
 * anything is written; every problem becomes a 4xx `ApiFailure`, never a 500.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { ApiFailure } from '../errors.ts';
import { readNodeBody, unreadNodeRequest } from './node-request.ts';

async function readText(c: Context, maxBytes: number): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxBytes) throw new ApiFailure(413, 'payload_too_large');
  const incoming = unreadNodeRequest(c);
  const buf = incoming ? await readNodeBody(incoming) : await c.req.arrayBuffer();
  if (buf.byteLength > maxBytes) throw new ApiFailure(413, 'payload_too_large');
  return new TextDecoder('utf-8', { fatal: false }).decode(buf);
}

function mediaType(c: Context): string {
  return (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Text a database cannot store as given is refused (on either database): U+0000, which
 * PostgreSQL text cannot hold, and lone UTF-16 surrogates, which would be stored as U+FFFD and
 * so differ from what was checked and hashed (the audit chain).
 */
const NUL = '\u0000';

function refuseUnstorable(strings: Iterable<string>): void {
  for (const s of strings) if (s.includes(NUL) || !s.isWellFormed()) throw new ApiFailure(400, 'invalid_input');
}

function parseWith<S extends z.core.$ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.map(String).join('.') || undefined;
    throw new ApiFailure(400, 'invalid_input', { field });
  }
  return parsed.data;
}

/** A JSON body validated by `schema`. `allowEmpty` treats a missing body as `{}`. */
export async function readJson<S extends z.core.$ZodType>(c: Context, schema: S, maxBytes: number, allowEmpty = false): Promise<z.infer<S>> {
  const text = await readText(c, maxBytes);
  if (allowEmpty && text.trim() === '') return parseWith(schema, {});
  if (mediaType(c) !== 'application/json') throw new ApiFailure(415, 'unsupported_media_type');
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v: unknown) => {
      refuseUnstorable(typeof v === 'string' ? [key, v] : [key]);
      return v;
    });
  } catch {
    throw new ApiFailure(400, 'invalid_input');
  }
  return parseWith(schema, value);
}

/** A JSON or `application/x-www-form-urlencoded` body (OAuth token endpoint). */
export async function readJsonOrForm<S extends z.core.$ZodType>(c: Context, schema: S, maxBytes: number): Promise<z.infer<S>> {
  const type = mediaType(c);
  if (type === 'application/x-www-form-urlencoded') {
    return parseWith(schema, formFields(await readText(c, maxBytes)));
  }
  return readJson(c, schema, maxBytes);
}

/** A portal form (urlencoded) as a plain record of strings. */
export async function readForm(c: Context, maxBytes: number): Promise<Record<string, string>> {
  if (mediaType(c) !== 'application/x-www-form-urlencoded') throw new ApiFailure(415, 'unsupported_media_type');
  return formFields(await readText(c, maxBytes));
}

function formFields(text: string): Record<string, string> {
  const params = new URLSearchParams(text);
  for (const [k, v] of params) refuseUnstorable([k, v]);
  return Object.fromEntries(params);
}

/** Request addresses (path and query) with an encoded or raw NUL are refused before any route runs. */
export function refuseNulInUrl(url: string): void {
  if (url.includes(NUL) || /%00/i.test(url)) throw new ApiFailure(400, 'invalid_input');
}
