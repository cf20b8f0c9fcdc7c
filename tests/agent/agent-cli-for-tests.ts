/**
 * The agent CLI as the tests run it (tests/agent/cli-run.ts spawns this file): the real
 * commands (agent/cli-main.ts) with two seams the production bin (agent/cli.ts) never sets.
 * - The LUKS key slots the agent adds get cheap PBKDF2 (tests/agent/fast-kdf.ts): the tests'
 *   containers are throw-away.
 * - KEYWARD_AGENT_CRASH_AFTER_STEP=escrowed|added|verified|completed|removed kills the process
 *   with SIGKILL right after that rotation step is journaled (like a power cut), for the
 *   crash-repair tests. Only this file reads that variable.
 */
import type { RotationStep } from '../../agent/agent.ts';
import { runAgentCli } from '../../agent/cli-main.ts';
import { TEST_ONLY_FAST_KDF } from './fast-kdf.ts';

const crashAfterStep = process.env.KEYWARD_AGENT_CRASH_AFTER_STEP;

function killAfter(step: RotationStep): void {
  if (step !== crashAfterStep) return;
  process.stderr.write(`KEYWARD_AGENT_CRASH_AFTER_STEP=${step}: killing the agent now\n`);
  process.kill(process.pid, 'SIGKILL');
}

void runAgentCli(process.argv.slice(2), { luksKdfArgs: TEST_ONLY_FAST_KDF, afterRotationStep: killAfter });
