/**
 * The agent's log: one timestamped line per event on stderr (or a sink given by the caller).
 * Callers pass only descriptions, ids and outcomes, never a key or a credential.
 */
export type Log = (line: string) => void;

export function stderrLog(prefix = 'keyward-agent'): Log {
  return (line) => process.stderr.write(`${new Date().toISOString()} ${prefix} ${line}\n`);
}

export const silentLog: Log = () => undefined;
