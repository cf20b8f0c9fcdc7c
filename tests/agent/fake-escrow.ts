/**
 * An in-memory stand-in for the escrow service's agent API, with the key-version lifecycle
 * of DESIGN.md (candidate → verified; pending → active; old → retired). Escrow and completion
 * are idempotent, as the agent's crash repair expects. Used by the agent's unit tests.
 */
import type { AgentTask, AgentVolumeReport, KeyVersionState, OperationKind } from '../../lib/api/contract.ts';
import { AgentApiError, type AgentApi } from '../../agent/api-client.ts';

type Version = { id: string; volumeRef: string; key: string; state: KeyVersionState; protectorId: string | null };
type Op = { id: string; kind: OperationKind; volumeRef: string; state: 'queued' | 'in_progress' | 'succeeded' | 'failed'; result: string | null; candidateId: string | null; pendingId: string | null };

export class FakeEscrow {
  versions: Version[] = [];
  ops: Op[] = [];
  checkins = 0;
  /** The serial number the last check-in reported (undefined: none). */
  lastSerialNumber: string | undefined;
  /** What the agent reported at its last check-in. */
  lastReports: AgentVolumeReport[] = [];
  /** Volumes the next check-ins ask a full check for. */
  verifyVolumes: string[] = [];
  /** Full-check results the agent reported. */
  verifications: { volumeRef: string; works: boolean }[] = [];
  private seq = 0;

  private nextId(prefix: string): string {
    this.seq += 1;
    return `${prefix}-${this.seq}`;
  }

  /** An escrowed (active) key, as after an upload at enrollment. */
  addActive(volumeRef: string, key: string, protectorId: string | null = null): string {
    const id = this.nextId('kv');
    this.versions.push({ id, volumeRef, key, state: 'active', protectorId });
    return id;
  }

  storeCandidate(volumeRef: string, key: string): Op {
    const candidateId = this.nextId('kv');
    this.versions.push({ id: candidateId, volumeRef, key, state: 'candidate', protectorId: null });
    return this.queue('verify-and-rotate', volumeRef, candidateId);
  }

  queue(kind: OperationKind, volumeRef: string, candidateId: string | null = null): Op {
    const op: Op = { id: this.nextId('op'), kind, volumeRef, state: 'queued', result: null, candidateId, pendingId: null };
    this.ops.push(op);
    return op;
  }

  /** Keys the service holds for the volume in the given states. */
  keys(volumeRef: string, states: KeyVersionState[]): string[] {
    return this.versions.filter((v) => v.volumeRef === volumeRef && states.includes(v.state)).map((v) => v.key);
  }

  private op(id: string): Op {
    const op = this.ops.find((o) => o.id === id);
    if (!op) throw new AgentApiError(404, 'not_found', 'no such operation');
    return op;
  }

  api(): AgentApi {
    return {
      checkin: async (volumes, _inHand, serialNumber) => {
        this.checkins += 1;
        this.lastSerialNumber = serialNumber;
        this.lastReports = volumes;
        const tasks: AgentTask[] = this.ops.filter((o) => o.state === 'queued').map((o) => {
          o.state = 'in_progress';
          const candidate = this.versions.find((v) => v.id === o.candidateId);
          const current = this.versions.filter((v) => v.volumeRef === o.volumeRef && v.state === 'active').at(-1);
          return { operationId: o.id, kind: o.kind, volumeRef: o.volumeRef, candidateKey: candidate?.key ?? null, currentKey: current?.key ?? null };
        });
        return { tasks, nextCheckinSeconds: 60, verifyVolumes: this.verifyVolumes };
      },
      startEscrow: async (body) => {
        const op = this.queue('rotate', body.volumeRef);
        op.state = 'in_progress';
        const current = this.versions.filter((v) => v.volumeRef === op.volumeRef && v.state === 'active').at(-1);
        return { operationId: op.id, kind: op.kind, volumeRef: op.volumeRef, candidateKey: null, currentKey: current?.key ?? null };
      },
      verificationKey: async (volumeRef) => {
        const current = this.versions.filter((v) => v.volumeRef === volumeRef && v.state === 'active').at(-1);
        if (!current) throw new AgentApiError(404, 'no_key', 'no key escrowed');
        return { keyVersionId: current.id, key: current.key };
      },
      reportVerification: async (body) => {
        this.verifications.push({ volumeRef: body.volumeRef, works: body.works });
      },
      escrowPending: async (operationId, body) => {
        const op = this.op(operationId);
        if (op.state !== 'in_progress') throw new AgentApiError(409, 'conflict', 'operation is not in progress');
        const same = this.versions.find((v) => v.id === op.pendingId && v.key === body.key);
        if (same) return { keyVersionId: same.id };
        if (op.pendingId) this.setState(op.pendingId, 'rejected');
        const id = this.nextId('kv');
        this.versions.push({ id, volumeRef: op.volumeRef, key: body.key, state: 'pending', protectorId: body.protectorId ?? null });
        op.pendingId = id;
        return { keyVersionId: id };
      },
      complete: async (operationId, body) => {
        const op = this.op(operationId);
        if (op.state === 'succeeded' && body.result === 'ok' && body.keyVersionId === op.pendingId) return;
        if (op.state !== 'in_progress') throw new AgentApiError(409, 'conflict', 'operation is not in progress');
        op.result = body.result;
        if (body.result === 'ok') {
          if (body.keyVersionId !== op.pendingId) throw new AgentApiError(400, 'invalid_input', 'not this operation’s pending key');
          for (const v of this.versions) {
            if (v.volumeRef === op.volumeRef && (v.state === 'active' || v.state === 'candidate')) v.state = 'retired';
          }
          this.setState(op.pendingId, 'active');
          const pending = this.versions.find((v) => v.id === op.pendingId);
          if (pending && body.protectorId) pending.protectorId = body.protectorId;
          op.state = 'succeeded';
        } else {
          if (op.candidateId) this.setState(op.candidateId, 'rejected');
          if (op.pendingId) this.setState(op.pendingId, 'rejected');
          op.state = 'failed';
        }
      },
      uploadProtectors: async (body) => {
        for (const p of body.protectors) {
          if (!this.versions.some((v) => v.volumeRef === body.volumeRef && v.key === p.key && v.state === 'active')) {
            this.addActive(body.volumeRef, p.key, p.protectorId);
          }
        }
        for (const op of this.ops.filter((o) => o.kind === 'upload' && o.volumeRef === body.volumeRef && o.state === 'in_progress')) {
          op.state = 'succeeded';
          op.result = 'ok';
        }
      },
    };
  }

  private setState(id: string, state: KeyVersionState): void {
    const v = this.versions.find((x) => x.id === id);
    if (v) v.state = state;
  }
}
