/** The extension's stylesheet, shared by the popup, the options page and the portal panels (shadow root). */
export const STYLES = `
:host, .kw-root {
  --kw-fg: #1d2430; --kw-muted: #5b6678; --kw-line: #d9dee7; --kw-bg: #ffffff; --kw-soft: #f4f6f9;
  --kw-accent: #2456c9; --kw-accent-fg: #ffffff; --kw-ok: #1b7a43; --kw-ok-bg: #e6f4ec;
  --kw-warn: #8a5a00; --kw-warn-bg: #fdf3dc; --kw-bad: #b3261e; --kw-bad-bg: #fbe9e7;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans JP", sans-serif;
  color: var(--kw-fg);
}
.kw-root * { box-sizing: border-box; }
body { margin: 0; }
.kw-card { background: var(--kw-bg); border: 1px solid var(--kw-line); border-radius: 10px; padding: 16px; }
.kw-card + .kw-card { margin-top: 12px; }
.kw-panel { padding: 4px 0 0; }
select.kw-input { width: auto; min-width: 160px; align-self: flex-start; }
.kw-title { font-size: 15px; font-weight: 600; margin: 0 0 10px; }
.kw-muted { color: var(--kw-muted); font-size: 13px; }
.kw-field { display: flex; flex-direction: column; gap: 4px; margin-bottom: 12px; }
.kw-field label { font-weight: 500; font-size: 13px; }
.kw-input { font: inherit; padding: 8px 10px; border: 1px solid #b9c1ce; border-radius: 6px; background: #fff; color: var(--kw-fg); width: 100%; }
.kw-input.kw-mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; letter-spacing: .04em; }
.kw-input[aria-invalid="true"] { border-color: var(--kw-bad); }
.kw-input:focus-visible, .kw-button:focus-visible, .kw-link:focus-visible, select:focus-visible { outline: 3px solid var(--kw-accent); outline-offset: 2px; }
.kw-hint { font-size: 12.5px; color: var(--kw-muted); min-height: 1em; }
.kw-error { font-size: 12.5px; color: var(--kw-bad); }
.kw-okhint { font-size: 12.5px; color: var(--kw-ok); }
.kw-row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.kw-spread { display: flex; justify-content: space-between; align-items: center; gap: 8px; }
.kw-button { font: inherit; font-weight: 500; padding: 7px 14px; border-radius: 6px; border: 1px solid var(--kw-accent); background: var(--kw-accent); color: var(--kw-accent-fg); cursor: pointer; }
.kw-button[disabled] { opacity: .6; cursor: default; }
.kw-button.kw-secondary { background: #fff; color: var(--kw-accent); border-color: #b9c1ce; }
.kw-button.kw-small { padding: 4px 10px; font-size: 13px; white-space: nowrap; }
.kw-link { font: inherit; background: none; border: 0; padding: 0; color: var(--kw-accent); text-decoration: underline; cursor: pointer; }
.kw-notice { border-radius: 8px; padding: 10px 12px; margin-top: 12px; font-size: 13.5px; }
.kw-notice strong { display: block; margin-bottom: 2px; }
.kw-notice.kw-ok { background: var(--kw-ok-bg); color: #14532d; }
.kw-notice.kw-bad { background: var(--kw-bad-bg); color: #7f1d1d; }
.kw-notice.kw-info { background: var(--kw-soft); color: var(--kw-fg); }
.kw-notice.kw-warn { background: var(--kw-warn-bg); color: #5c3d00; }
.kw-toast { position: sticky; top: 0; z-index: 2; background: var(--kw-bad); color: #fff; border-radius: 8px; padding: 10px 12px; margin-bottom: 12px; display: flex; justify-content: space-between; gap: 12px; }
.kw-toast .kw-link { color: #fff; }
.kw-key { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 15px; letter-spacing: .02em; padding: 10px 12px; background: var(--kw-soft); border: 1px solid var(--kw-line); border-radius: 8px; overflow-wrap: anywhere; user-select: all; }
.kw-countdown { font-variant-numeric: tabular-nums; }
.kw-progress { width: 100%; height: 6px; }
.kw-badge { display: inline-block; font-size: 12px; font-weight: 500; padding: 2px 8px; border-radius: 999px; white-space: nowrap; }
.kw-badge-escrowed { background: var(--kw-ok-bg); color: var(--kw-ok); }
.kw-badge-missing { background: var(--kw-bad-bg); color: var(--kw-bad); }
.kw-badge-pending { background: var(--kw-warn-bg); color: var(--kw-warn); }
.kw-badge-failed { background: var(--kw-bad-bg); color: var(--kw-bad); }
.kw-badge-broken { background: var(--kw-bad-bg); color: var(--kw-bad); }
.kw-devices { list-style: none; margin: 0; padding: 0; }
.kw-device { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 8px 0; border-bottom: 1px solid var(--kw-line); }
.kw-device:last-child { border-bottom: 0; }
.kw-device-name { font-weight: 500; }
.kw-platform { display: inline-flex; align-items: center; gap: 4px; color: var(--kw-muted); font-size: 13px; }
.kw-device .kw-row { gap: 4px; }
.kw-platform-icon { flex: none; }
.kw-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
