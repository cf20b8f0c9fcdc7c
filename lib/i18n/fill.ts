/** Fills a message's `{name}` placeholders; unknown ones stay visible as they are. */
export type MessageParams = Record<string, string | number>;

export function fillPlaceholders(template: string, params: MessageParams = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}
