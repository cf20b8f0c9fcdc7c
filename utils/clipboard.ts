/**
 * Clipboard helpers for the extension pages: copy a text and remember only its SHA-256;
 * later clear the clipboard if (and only if) it still holds that text.
 * Reading uses execCommand('paste'), which works in extension documents with clipboardRead.
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function readClipboard(doc: Document): string {
  const area = doc.createElement('textarea');
  doc.body.append(area);
  area.focus();
  doc.execCommand('paste');
  const text = area.value;
  area.remove();
  return text;
}

function writeEmptyClipboard(doc: Document): void {
  const onCopy = (event: ClipboardEvent) => {
    event.clipboardData?.setData('text/plain', '');
    event.preventDefault();
  };
  doc.addEventListener('copy', onCopy);
  doc.execCommand('copy');
  doc.removeEventListener('copy', onCopy);
}

/** Returns true when the clipboard held our text and was cleared. */
export async function clearClipboardIfUnchanged(doc: Document, sha256: string): Promise<boolean> {
  const current = readClipboard(doc);
  if (!current || (await sha256Hex(current)) !== sha256) return false;
  writeEmptyClipboard(doc);
  return true;
}
