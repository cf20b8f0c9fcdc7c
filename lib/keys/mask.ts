/**
 * Masked form of a key, for lists and badges: only the last group stays readable, enough
 * to tell key versions apart (`••••-••••-…-VAPY`). A passphrase that is not a generated
 * one is fully masked, without revealing its length.
 */
import type { KeyKind } from '../api/contract.ts';
import { looseNormalize } from './grouped-input.ts';
import { isGeneratedLuksPassphrase } from './luks.ts';

function maskWithTail(tail: string, groupSize: number): string {
  const dots = '•'.repeat(groupSize);
  return `${dots}-${dots}-…-${tail}`;
}

export function maskRecoveryKey(kind: KeyKind, normalized: string): string {
  switch (kind) {
    case 'filevault':
      return maskWithTail(looseNormalize(normalized).slice(-4), 4);
    case 'bitlocker':
      return maskWithTail(looseNormalize(normalized).slice(-6), 6);
    case 'luks':
      return isGeneratedLuksPassphrase(normalized) ? maskWithTail(normalized.slice(-5), 5) : '•'.repeat(10);
  }
}
