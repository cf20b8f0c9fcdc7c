/**
 * The systemd unit that runs `keyward-agent run` as a service (systemd.service(5),
 * systemd.exec(5)): started after the network is up, restarted on failure, but not when the
 * service refused the device credential (exit 4) or the setup is wrong (exit 2), since a
 * restart cannot fix either. Runs as root (cryptsetup needs it), with the state dir the only
 * place it writes besides the disks' headers.
 */
import { writeFileAtomic } from './atomic-file.ts';
import { EXIT } from './exit-codes.ts';

export type ServiceUnitOptions = { nodePath: string; cliPath: string; stateDir: string };

export const UNIT_NAME = 'keyward-agent.service';

/** systemd splits ExecStart= on spaces; a path with a space or quote needs quoting. */
function quoted(arg: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(arg) ? arg : `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function serviceUnit(o: ServiceUnitOptions): string {
  return `[Unit]
Description=Keyward device agent (escrows this device's disk-encryption recovery keys)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${[o.nodePath, o.cliPath, 'run', '--state-dir', o.stateDir].map(quoted).join(' ')}
Restart=on-failure
RestartSec=30
# ${EXIT.credentialRefused}: the service refused the device credential (revoked, expired, device retired): enroll again.
# ${EXIT.usage}: a setup problem (not root, not enrolled). Restarting cannot fix either.
RestartPreventExitStatus=${EXIT.credentialRefused} ${EXIT.usage}
User=root
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ReadWritePaths=${quoted(o.stateDir)}
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}

export function writeServiceUnit(path: string, options: ServiceUnitOptions): void {
  writeFileAtomic(path, serviceUnit(options), 0o644);
}
