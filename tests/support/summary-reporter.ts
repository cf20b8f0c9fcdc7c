/**
 * Prints one plain closing line after the run, e.g. `tests: 454 passed, 0 failed`, so that
 * tools which read a run's last lines (CI) see how many tests ran without parsing colours.
 */
import type { RunnerTask as Task, RunnerTestFile as File } from 'vitest';
import type { Reporter } from 'vitest/reporters';

function countTests(tasks: Task[], counts: { passed: number; failed: number; skipped: number }): void {
  for (const task of tasks) {
    if (task.type === 'suite') countTests(task.tasks, counts);
    else if (task.result?.state === 'pass') counts.passed++;
    else if (task.result?.state === 'fail') counts.failed++;
    else counts.skipped++;
  }
}

export default class SummaryReporter implements Reporter {
  onFinished(files: File[] = [], errors: unknown[] = []): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    countTests(files, counts);
    // A file that failed to load has no failed test of its own; count it as one failure.
    const brokenFiles = files.filter((f) => f.result?.state === 'fail' && f.tasks.length === 0).length;
    const failed = counts.failed + brokenFiles + errors.length;
    const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
    process.stdout.write(`\ntests: ${counts.passed} passed, ${failed} failed${skipped}\n`);
  }
}
