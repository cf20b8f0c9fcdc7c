/** The text `keyward-agent --help` and `keyward-agent <command> --help` print. */
import { DEFAULT_UUID_DIR } from './drivers/luks.ts';
import { EXIT_CODES_HELP } from './exit-codes.ts';
import { UNIT_NAME } from './service-unit.ts';

export const HELP: Record<string, string> = {
  enroll: `keyward-agent enroll --server URL --token TOKEN [options]
  Enrolls this device with the Keyward service (a one-time token from IT) and escrows a
  recovery key. LUKS (the default driver): run as root; for each --volume the agent asks for a
  passphrase that opens it now (typed without echo, or one line per volume on standard input),
  adds a recovery key of its own in a new key slot, escrows it before it is committed, and
  leaves your passphrase as it is. Nothing is changed, and the token stays usable, until every
  volume was checked.
  --server URL           the service's address (https://; http:// only to localhost)
  --token TOKEN          the one-time enrollment token
  --driver NAME          luks (default), filevault, bitlocker, or simulated (a SIMULATED fake disk)
  --volume PATH          a LUKS device or container, or UUID=<luks uuid> (repeatable); volumes
                         that are not LUKS (e.g. plain members of an LVM set) are skipped and reported
  --name NAME            the device's name in the console (default: the host name)
  --state-dir DIR        where the agent keeps its state (default ~/.keyward-agent)
  --uuid-dir DIR         where udev's by-uuid links are (default ${DEFAULT_UUID_DIR})
  --insecure-http        allow a plain http:// service address that is not localhost
  --kind KIND            simulated driver only: filevault, bitlocker or luks keys
  --user NAME            filevault only: the macOS user fdesetup authorizes with
  --upload-existing      escrow the keys already on the disk (BitLocker does this always)`,
  run: `keyward-agent run [--once] [--state-dir DIR]
  Checks in with the service, runs its tasks (rotations), checks that every escrowed key still
  works (at each check-in its key slot is unchanged; on the policy's interval the key really
  opens the volume) and repeats. Stops with exit code 4 when the service refuses the device's
  credential. --once: one check-in; exit code 3 if an operation failed or an escrowed key no
  longer works.`,
  status: `keyward-agent status [--state-dir DIR]
  Shows the service, the device, its volumes, whether each escrowed key's slot is unchanged,
  and unfinished rotations.`,
  repair: `keyward-agent repair [--volume REF]... [--force] [--state-dir DIR]
  LUKS: for each volume whose escrowed key no longer works (or has none), asks for a passphrase
  that opens it now and escrows a new recovery key of the agent's own in a new key slot. Your
  passphrase stays as it is. --volume limits it to some volumes (a path or LUKS UUID); --force
  replaces the escrowed key even if it still works. Run as root.`,
  'install-service': `keyward-agent install-service [--state-dir DIR] [--unit-dir DIR]
  Writes the systemd unit ${UNIT_NAME} (default in /etc/systemd/system) that runs
  \`keyward-agent run\` for this enrolled state dir. Then: systemctl daemon-reload &&
  systemctl enable --now keyward-agent.`,
};

export const USAGE = `usage: keyward-agent <command> [options]   (keyward-agent <command> --help for details)
commands:
  enroll           enroll this device and escrow its recovery key(s)
  run              check in, rotate keys, prove escrowed keys still work (loop; --once for one)
  status           what the agent manages and whether its escrowed keys are intact
  repair           escrow a new recovery key where the escrowed one no longer works (LUKS)
  install-service  write a systemd unit that runs the agent
  help [command]   this text, or a command's
${EXIT_CODES_HELP}`;
