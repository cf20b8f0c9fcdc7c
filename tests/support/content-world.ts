/**
 * Sends a message to the background from inside the portal content script's isolated world
 * (through the DevTools protocol), exactly as a panel would — to check what the background
 * lets a content script ask for.
 */
import type { BrowserContext, Page } from 'playwright-core';

type ContextCreated = { context: { id: number; name: string; auxData?: { type?: string; isDefault?: boolean } } };
type Evaluated = { result: { value?: unknown }; exceptionDetails?: { text: string } };

export async function sendFromContentScript(context: BrowserContext, page: Page, extensionName: string, message: object): Promise<unknown> {
  const cdp = await context.newCDPSession(page);
  try {
    const worlds: number[] = [];
    cdp.on('Runtime.executionContextCreated', (event: ContextCreated) => {
      if (event.context.auxData?.type === 'isolated' && event.context.name === extensionName) worlds.push(event.context.id);
    });
    await cdp.send('Runtime.enable');
    if (worlds.length === 0) throw new Error('The content script world was not found.');
    const evaluated = (await cdp.send('Runtime.evaluate', {
      contextId: worlds[0],
      expression: `chrome.runtime.sendMessage(${JSON.stringify(message)})`,
      awaitPromise: true,
      returnByValue: true,
    })) as Evaluated;
    if (evaluated.exceptionDetails) throw new Error(evaluated.exceptionDetails.text);
    return evaluated.result.value;
  } finally {
    await cdp.detach();
  }
}
