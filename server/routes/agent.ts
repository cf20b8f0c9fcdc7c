/**
 * `/api/v1/agent` for device agents, mounted from the endpoint table (`agentEndpoints`):
 * enrollment with a one-time token, then the per-device credential (Bearer) for check-in,
 * escrow, completion, protector upload, escrows the agent starts itself, and the full check
 * of an escrowed key. An agent can only ever reach its own device's operations and volumes
 * (others are `not_found`).
 */
import type { Hono } from 'hono';
import { agentEndpoints } from '../../lib/api/endpoints.ts';
import type { AppDeps } from '../deps.ts';
import { clientIp, requestLocale, type AppEnv } from '../http/context.ts';
import { endpointRouter } from '../http/endpoint-route.ts';
import { enrollDevice } from '../services/agent-enroll.ts';
import { checkIn } from '../services/agent-checkin.ts';
import { completeOperation, escrowPendingKey, uploadProtectors } from '../services/agent-report.ts';
import { startAgentEscrow } from '../services/agent-escrow.ts';
import { recordVerification, verificationKey } from '../services/agent-verification.ts';

export function agentRoutes(deps: AppDeps): Hono<AppEnv> {
  const { router, mount } = endpointRouter(deps);
  const api = agentEndpoints;

  mount(api.enroll, async ({ c, body }) => enrollDevice(deps, body, clientIp(c)));
  mount(api.checkin, async ({ caller: device, body }) => checkIn(deps, device, body));
  mount(api.escrowPending, async ({ c, caller: device, params, body }) => escrowPendingKey(deps, device, params.id, body, requestLocale(c)));
  mount(api.complete, async ({ caller: device, params, body }) => completeOperation(deps, device, params.id, body));
  mount(api.uploadProtectors, async ({ c, caller: device, body }) => uploadProtectors(deps, device, body, requestLocale(c)));
  mount(api.startEscrow, async ({ caller: device, body }) => startAgentEscrow(deps, device, body));
  mount(api.verificationKey, async ({ caller: device, body }) => verificationKey(deps, device, body.volumeRef));
  mount(api.reportVerification, async ({ caller: device, body }) => recordVerification(deps, device, body));

  return router;
}
