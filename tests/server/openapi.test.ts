/** The OpenAPI document is served without sign-in and describes every `/api/v1` route the service answers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, type Harness } from './harness.ts';

describe('OpenAPI document', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sqlite');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lists the API routes with their request schemas', async () => {
    const res = await call(h.app, 'GET', '/api/v1/openapi.json', null);
    expect(res.status).toBe(200);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, { required?: string[] }> } };
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/api/v1/devices/{id}/keys', '/api/v1/devices/{id}/reveal', '/api/v1/agent/checkin', '/oauth/token']) expect(doc.paths[path]).toBeDefined();
    expect(doc.components.schemas.StoreKeyRequest.required).toEqual(['key', 'confirmKey']);
    // Every documented user route exists: without a token it answers 401, not 404.
    for (const path of Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1/') && !p.startsWith('/api/v1/agent'))) {
      const method = Object.keys(doc.paths[path])[0].toUpperCase();
      const r = await call(h.app, method, path.replace('{id}', 'x'), null, method === 'POST' ? {} : undefined);
      expect(r.status, `${method} ${path}`).toBe(401);
    }
  });
});
