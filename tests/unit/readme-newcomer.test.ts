/**
 * Issue #9, point 9: the README a newcomer follows names things as the product shows them —
 * the enrollment form by the heading and page it really has, the agent through `npx` (it is
 * not on the PATH after `npm ci`), and `--help` for both commands (whose answers the CLI
 * tests check: tests/server/data-files.test.ts, tests/agent/cli-messages.test.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { t } from '../../lib/i18n/index.ts';

const README = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');

describe('README for a newcomer', () => {
  it('sends admins to the Policy page\'s enrollment form, by the heading the page shows', () => {
    expect(README).toContain(`admin console's **Policy** page, fills in **${t('en', 'portal.enrollment_title')}**`);
    expect(README).not.toMatch(/\*\*Enrollment\*\* page/);
    expect(t('en', 'portal.nav.policy')).toBe('Policy');
  });

  it('runs the agent through npx or node, never a bare keyward-agent that is not on the PATH', () => {
    const commands = README.split('\n').filter((line) => /^\s*(sudo )?(npx |node )?keyward-agent /.test(line));
    expect(commands.length).toBeGreaterThan(0);
    for (const line of commands) expect(line).toMatch(/^\s*(sudo )?npx keyward-agent /);
    expect(README).toContain('`npx keyward-agent --help`');
    expect(README).toContain('`node server/cli.ts --help`');
  });

  it('shows the portal\'s own pictures, which the e2e suite takes', () => {
    for (const picture of ['portal-devices.png', 'portal-device.png', 'panel.png', 'popup.png']) expect(README).toContain(`](docs/screenshots/${picture})`);
  });
});
