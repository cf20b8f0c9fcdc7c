/**
 * How long a revealed key stays in sight, wherever it is shown (portal, panels, popup): on
 * screen for five minutes (the design's rule), and in the clipboard until it is cleared. The
 * service sends its own on-screen time with each reveal; these are the defaults everyone starts from.
 */
export const KEY_SHOWN_SECONDS = 300;
export const CLIPBOARD_CLEAR_SECONDS = 30;
