/**
 * Cheap key-slot parameters for the tests' throw-away LUKS containers (PBKDF2, 1000
 * iterations), so formatting a container or adding a key takes milliseconds instead of
 * cryptsetup's benchmarked seconds and memory. Never for a real disk: the production agent has
 * no way to ask for them (tests/agent/agent-build.test.ts checks its bundle).
 */
export const TEST_ONLY_FAST_KDF: readonly string[] = ['--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000'];
