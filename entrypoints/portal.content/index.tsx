/**
 * Portal content script: runs only on the configured portal origin (registered at runtime
 * by the background), finds the `data-keyward-panel` mount points and, when the extension is
 * signed in, mounts the Store and Get panels, each in its own shadow root. Panels talk only to the background,
 * which also hands over the messages of the page's language (only that one), so a panel shows in
 * its language from the first paint.
 * The shadow root is closed: page scripts cannot reach into it (`host.shadowRoot` is null and
 * events leave it retargeted to the host), so a revealed or typed key stays out of the page's
 * DOM, styles and bubbling events; a page script listening in the capture phase could still
 * see keystrokes, as with any in-page UI.
 * The panels' stylesheet is a constructable one adopted by the shadow root: the portal's CSP
 * does not apply to it (Firefox applies the page's CSP to a `<style>` filled after it is attached).
 */
import { render } from 'preact';
import { defineContentScript } from 'wxt/utils/define-content-script';
import { createShadowRootUi } from 'wxt/utils/content-script-ui/shadow-root';
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import type { KeyKind, Locale } from '../../lib/api/contract.ts';
import { LOCALES } from '../../lib/i18n/locales.ts';
import type { MessageTable } from '../../lib/i18n/extension/table.ts';
import { GetPanel } from '../../components/GetPanel.tsx';
import { followPageState } from '../../utils/page-state.ts';
import { sendMessage } from '../../utils/send.ts';
import { StorePanel } from '../../components/StorePanel.tsx';
import { STYLES } from '../../components/styles.ts';
import { LocaleProvider } from '../../components/text.tsx';

export default defineContentScript({
  // Registered at run time for the configured service (background/portal-script.ts); these loopback
  // patterns are only WXT's defaults and are already among the manifest's host permissions.
  matches: ['http://127.0.0.1/*', 'http://localhost/*'],
  registration: 'runtime',
  async main(ctx) {
    if (document.body?.dataset.keywardPortal !== '1') return;
    const locale = pick<Locale>(LOCALES, document.body.dataset.keywardLocale, 'en');
    const [state, messages] = await Promise.all([
      sendMessage('state.get', {}).catch(() => null),
      sendMessage('i18n.table', { locale }).catch(() => null),
    ]);
    // Signed out (or without words to show), the panels could do nothing: leave the portal's own forms in place.
    if (!state?.signedIn || !messages?.ok) return;
    for (const anchor of document.querySelectorAll<HTMLElement>('[data-keyward-panel]')) {
      await mountPanel(ctx, anchor, locale, messages.table);
    }
    const deviceId = document.querySelector<HTMLElement>('[data-keyward-device]')?.dataset.keywardDevice;
    if (deviceId) ctx.onInvalidated(followPageState(() => void sendMessage('device.get', { deviceId }).catch(() => null)));
  },
});

const KEY_KINDS: readonly KeyKind[] = ['filevault', 'bitlocker', 'luks'];

/**
 * Composed events that carry what is typed, pasted or selected (`key`, `data`, clipboard, or
 * the input itself through `composedPath()` inside the root): stopped inside the shadow
 * root so the page's bubbling listeners never see a recovery key.
 */
const ISOLATED_EVENTS = [
  'keydown', 'keyup', 'keypress', 'beforeinput', 'input', 'textInput', 'compositionstart', 'compositionupdate',
  'compositionend', 'paste', 'copy', 'cut', 'select', 'selectionchange', 'dragstart', 'drop', 'focusin', 'focusout',
];

let styleSheet: CSSStyleSheet | null = null;

/** One constructable stylesheet shared by every panel on the page. */
function panelStyleSheet(): CSSStyleSheet {
  if (!styleSheet) {
    styleSheet = new CSSStyleSheet();
    styleSheet.replaceSync(STYLES);
  }
  return styleSheet;
}

function pick<T extends string>(allowed: readonly T[], value: string | undefined, fallback: T): T {
  return allowed.find((a) => a === value) ?? fallback;
}

/** The portal's own forms next to a mount point work without the extension; with it, the panel replaces them. */
function hidePlainForms(anchor: HTMLElement): void {
  for (const sibling of Array.from(anchor.parentElement?.children ?? [])) {
    if (sibling instanceof HTMLFormElement) sibling.hidden = true;
  }
}

async function mountPanel(ctx: ContentScriptContext, anchor: HTMLElement, locale: Locale, table: MessageTable): Promise<void> {
  const deviceId = anchor.dataset.keywardDevice;
  const panel = anchor.dataset.keywardPanel;
  if (!deviceId || (panel !== 'store' && panel !== 'get')) return;
  const kind = pick<KeyKind>(KEY_KINDS, anchor.dataset.keywardKind, 'filevault');
  const ui = await createShadowRootUi(ctx, {
    name: 'keyward-panel',
    position: 'inline',
    anchor,
    append: 'last',
    mode: 'closed',
    isolateEvents: ISOLATED_EVENTS,
    onMount(container, shadow) {
      shadow.adoptedStyleSheets = [panelStyleSheet()];
      const root = document.createElement('div');
      root.className = 'kw-root';
      container.append(root);
      render(
        <LocaleProvider locale={locale} table={table}>
          {panel === 'store' ? <StorePanel deviceId={deviceId} kind={kind} /> : <GetPanel deviceId={deviceId} />}
        </LocaleProvider>,
        root,
      );
      anchor.dataset.keywardMounted = '1';
      hidePlainForms(anchor);
      return root;
    },
    onRemove(root) {
      if (root) render(null, root);
    },
  });
  ui.mount();
}
