/**
 * Message ids and catalogs of both parts: what the extension shows (extension/) and what only
 * the service shows (portal/). An id lives in exactly one part.
 */
import type { ExtensionMessageId } from './extension/en.ts';
import type { PortalMessageId } from './portal/en.ts';

export type { ExtensionMessageId, PortalMessageId };
export type MessageId = ExtensionMessageId | PortalMessageId;
export type Catalog = Partial<Record<MessageId, string>>;
