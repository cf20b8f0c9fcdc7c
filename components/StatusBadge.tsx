/** The key-status badge of a device (escrowed, missing, pending, needs attention). */
import type { KeyStatus } from '../lib/api/contract.ts';
import { useText } from './text.tsx';

export function StatusBadge({ status }: { status: KeyStatus }) {
  const text = useText();
  return <span class={`kw-badge kw-badge-${status}`} data-keyward-status={status}>{text(`ui.status.${status}`)}</span>;
}
