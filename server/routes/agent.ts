/**
 * `/api/v1/agent` for device agents: enrollment with a one-time token, then the per-device
 * credential (Bearer) for check-in, escrow, completion, protector upload, escrows the agent
 * starts itself, and the full check of an escrowed key. An agent can only ever reach its own
 * device's operations and volumes (others are `not_found`).
 */
import { Hono } from 'hono';
import {
  CheckinRequest, CompleteOperationRequest, EnrollRequest, EscrowPendingRequest, StartEscrowRequest, UploadProtectorsRequest, VerificationKeyRequest, VerificationResultRequest,
} from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { bearerToken, clientIp, requestLocale, type AppEnv } from '../http/context.ts';
import { readJson } from '../http/body.ts';
import { authenticateAgent, enrollDevice } from '../services/agent-enroll.ts';
import { checkIn } from '../services/agent-checkin.ts';
import { completeOperation, escrowPendingKey, uploadProtectors } from '../services/agent-report.ts';
import { startAgentEscrow } from '../services/agent-escrow.ts';
import { recordVerification, verificationKey } from '../services/agent-verification.ts';

export function agentRoutes(deps: AppDeps): Hono<AppEnv> {
  const agent = new Hono<AppEnv>();
  const max = deps.config.maxBodyBytes;

  agent.post('/enroll', async (c) => {
    const body = await readJson(c, EnrollRequest, max);
    return c.json(await enrollDevice(deps, body, clientIp(c)), 201);
  });

  agent.post('/checkin', async (c) => {
    const device = await authenticateAgent(deps, bearerToken(c));
    const body = await readJson(c, CheckinRequest, max, true);
    return c.json(await checkIn(deps, device, body));
  });

  agent.post('/operations/:id/escrow', async (c) => {
    const device = await authenticateAgent(deps, bearerToken(c));
    const body = await readJson(c, EscrowPendingRequest, max);
    return c.json(await escrowPendingKey(deps, device, c.req.param('id'), body, requestLocale(c)), 201);
  });

  agent.post('/operations/:id/complete', async (c) => {
    const device = await authenticateAgent(deps, bearerToken(c));
    const body = await readJson(c, CompleteOperationRequest, max);
    return c.json(await completeOperation(deps, device, c.req.param('id'), body));
  });

  agent.post('/protectors', async (c) => {
    const device = await authenticateAgent(deps, bearerToken(c));
    const body = await readJson(c, UploadProtectorsRequest, max);
    return c.json(await uploadProtectors(deps, device, body, requestLocale(c)));
  });

  agent.post('/operations', async (c) => {
    const device = await authenticateAgent(deps, bearerToken(c));
    const body = await readJson(c, StartEscrowRequest, max);
    return c.json(await startAgentEscrow(deps, device, body), 201);
  });

  agent.post('/verification/key', async (c) => {
    const device = await authenticateAgent(deps, bearerToken(c));
    const body = await readJson(c, VerificationKeyRequest, max);
    return c.json(await verificationKey(deps, device, body.volumeRef));
  });

  agent.post('/verification/result', async (c) => {
    const device = await authenticateAgent(deps, bearerToken(c));
    const body = await readJson(c, VerificationResultRequest, max);
    return c.json(await recordVerification(deps, device, body));
  });

  return agent;
}
