/**
 * Who may ask the background for what. `runtime.onMessage` only hears our own extension,
 * but its contexts differ in trust:
 * - our extension pages (popup, options; `sender.url` under our extension's origin) may send
 *   every message except `auth.callback`, which only the options page also sends (Firefox's
 *   sign-in finishes there, utils/sign-in.ts);
 * - callback.html (web-accessible, so any site may open or frame it) may send only
 *   `auth.callback`, which the background checks against the pending `state`;
 * - offscreen.html (Chrome's clipboard document) may send only `offscreen.done`, which no
 *   other page may send;
 * - our portal content script may send only the panel messages, only from a page on the
 *   configured service origin (`sender.url` and, where the browser gives it, `sender.origin`),
 *   and only about the device whose portal page it is mounted on (`/devices/<id>…` or
 *   `/admin/devices/<id>…`). It can never change settings, sign in or out, touch the vault
 *   passphrase, list cached devices or have the clipboard cleared of what it likes. A tab
 *   still open on a previous service origin is refused;
 * - `panel.copied` (clear the clipboard later of a key a panel copied) comes only from the
 *   portal content script in a tab's top frame; its handler also checks that the background
 *   revealed that very key to that tab (panel-reveals.ts).
 * Anything else (another extension's id, an unknown context) is refused.
 */
import type { Message, MessageType } from '../../utils/client/messages.ts';

export type MessageSender = { id?: string; url?: string; origin?: string; tab?: { id?: number }; frameId?: number };

/** The portal tab (and frame) a content script's message came from. */
export type PortalTab = { tabId: number; frameId: number };

export type SenderContext = {
  /** Our extension's id (`runtime.id`). */
  extensionId: string;
  /** Our extension's base URL (`runtime.getURL('/')`), e.g. `chrome-extension://<id>/`. */
  extensionBaseUrl: string;
  /** The configured escrow service origin. */
  serviceOrigin: string;
};

const CALLBACK_PAGE = 'callback.html';
const OPTIONS_PAGE = 'options.html';
const OFFSCREEN_PAGE = 'offscreen.html';
const CALLBACK_MESSAGES: ReadonlySet<MessageType> = new Set(['auth.callback']);
const OFFSCREEN_MESSAGES: ReadonlySet<MessageType> = new Set(['offscreen.done']);
const PANEL_MESSAGES: ReadonlySet<MessageType> = new Set(['state.get', 'i18n.table', 'key.reveal', 'key.store', 'device.get', 'device.checkAccess', 'panel.copied']);
const PANEL_ONLY_MESSAGES: ReadonlySet<MessageType> = new Set(['panel.copied']);

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** The device id of a portal device page (`/devices/<id>` or `/admin/devices/<id>`, any sub-path). */
export function portalPageDevice(url: string): string | null {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return null;
  }
  const match = /^\/(?:admin\/)?devices\/([^/]+)(?:\/|$)/.exec(path);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

function extensionPage(sender: MessageSender, context: SenderContext): string | null {
  if (!sender.url?.startsWith(context.extensionBaseUrl)) return null;
  return new URL(sender.url).pathname.replace(/^\//, '');
}

function deviceOf(message: Message): string | null {
  return 'deviceId' in message && typeof message.deviceId === 'string' ? message.deviceId : null;
}

export function isAllowedSender(message: Message, sender: MessageSender, context: SenderContext): boolean {
  if (sender.id !== context.extensionId) return false;
  const page = extensionPage(sender, context);
  if (page !== null) {
    if (page === CALLBACK_PAGE) return CALLBACK_MESSAGES.has(message.type);
    if (page === OFFSCREEN_PAGE) return OFFSCREEN_MESSAGES.has(message.type);
    if (OFFSCREEN_MESSAGES.has(message.type) || PANEL_ONLY_MESSAGES.has(message.type)) return false;
    return page === OPTIONS_PAGE || !CALLBACK_MESSAGES.has(message.type);
  }

  if (!PANEL_MESSAGES.has(message.type) || !sender.tab || !sender.url) return false;
  if (originOf(sender.url) !== context.serviceOrigin) return false;
  if (sender.origin !== undefined && sender.origin !== context.serviceOrigin) return false;
  if (PANEL_ONLY_MESSAGES.has(message.type) && portalTabOf(sender, context)?.frameId !== 0) return false;
  const device = deviceOf(message);
  return device === null || device === portalPageDevice(sender.url);
}

/** The tab and frame of a content script's message; null for our own pages (even in a tab) and anything tabless. */
export function portalTabOf(sender: MessageSender, context: SenderContext): PortalTab | null {
  if (extensionPage(sender, context) !== null) return null;
  const tabId = sender.tab?.id;
  return typeof tabId === 'number' && typeof sender.frameId === 'number' ? { tabId, frameId: sender.frameId } : null;
}
