/**
 * A controllable clock for the portal content script. Playwright's `page.clock` patches the
 * page's main world only; the panels run in the extension's isolated world, so this helper
 * shifts `Date.now()` there (through the DevTools protocol) and the panel's own one-second
 * ticker sees the new time — no real five-minute wait.
 */
import type { BrowserContext, Page } from 'playwright-core';

type ContextCreated = { context: { id: number; name: string; auxData?: { type?: string; frameId?: string } } };

export async function contentScriptClock(context: BrowserContext, page: Page, extensionName: string) {
  const cdp = await context.newCDPSession(page);
  const worlds: number[] = [];
  cdp.on('Runtime.executionContextCreated', (event: ContextCreated) => {
    if (event.context.auxData?.type === 'isolated' && event.context.name === extensionName) worlds.push(event.context.id);
  });
  await cdp.send('Runtime.enable');
  if (worlds.length === 0) throw new Error('The content script world was not found.');
  const evaluate = (expression: string) =>
    Promise.all(worlds.map((contextId) => cdp.send('Runtime.evaluate', { contextId, expression })));
  await evaluate(`(() => {
    if (globalThis.__keywardClockOffset !== undefined) return;
    const realNow = Date.now.bind(Date);
    globalThis.__keywardClockOffset = 0;
    Date.now = () => realNow() + globalThis.__keywardClockOffset;
  })()`);
  return {
    fastForward: async (ms: number) => {
      await evaluate(`globalThis.__keywardClockOffset += ${Number(ms)}`);
    },
    detach: () => cdp.detach(),
  };
}
