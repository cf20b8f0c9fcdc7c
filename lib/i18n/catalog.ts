/** The shape of a translated catalog: message id → text, checked against en.ts. */
import type { MessageId } from './en.ts';

export type Catalog = Partial<Record<MessageId, string>>;
