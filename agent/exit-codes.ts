/**
 * The agent's exit codes (documented in the README and `keyward-agent --help`), so scripts
 * and systemd can tell what happened.
 */
export const EXIT = {
  ok: 0,
  /** Something unexpected: the service could not be reached, a tool failed, a bug. Try again later. */
  failure: 1,
  /** Wrong usage, or a check before changing anything failed (not root, volume missing, wrong passphrase): nothing changed, the enrollment token is still usable. */
  usage: 2,
  /** An operation failed on the device, or an escrowed key no longer works (`run --once`, `repair`, `enroll`). */
  attention: 3,
  /** The service refused the device credential (revoked, expired, device retired): enroll again with a new token. */
  credentialRefused: 4,
} as const;

export const EXIT_CODES_HELP = `exit codes:
  0  done
  1  unexpected failure (service unreachable, a tool failed); try again later
  2  wrong usage, or a check before changing anything failed (nothing changed; an enrollment token is still usable)
  3  an operation failed on the device, or an escrowed key no longer works (run --once, repair, enroll)
  4  the service refused this device's credential (revoked, expired, device retired): enroll again`;
