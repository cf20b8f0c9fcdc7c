/**
 * Accessibility checks with axe-core, injected into the page by the driver (the same way in
 * Chromium and Firefox). The portal panels sit in closed shadow roots, which axe cannot see
 * on its own: for the check, the panels' hosts are given a `shadowRoot` property in the page
 * world that returns the closed root (reached through the automation protocol).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Tab } from './driver.ts';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export type AxeFinding = { id: string; impact: string; help: string; targets: string[] };

/** Lets axe walk into the closed shadow roots of the portal panels on `tab`. */
export async function exposePanelsToAxe(tab: Tab): Promise<void> {
  for (const kind of ['store', 'get'] as const) {
    await tab.evaluateInShadowRoot(`[data-keyward-panel="${kind}"] keyward-panel`, (root) => {
      Object.defineProperty(root.host, 'shadowRoot', { get: () => root, configurable: true });
      return true;
    }, null);
  }
}

/** The serious and critical violations axe finds on the tab's page as it is now. */
export async function seriousViolations(tab: Tab): Promise<AxeFinding[]> {
  await tab.addScript(AXE_SOURCE);
  return tab.evaluate(async () => {
    type Result = { violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] };
    const axe = (globalThis as unknown as { axe: { run(context: Document, options: object): Promise<Result> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) }));
  }, null);
}
