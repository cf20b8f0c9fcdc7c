/** The portal's stylesheet, inlined with the page's CSP nonce. */
export const STYLES = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;background:#f5f6f8}
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;padding:.6rem 1.2rem;background:#1f3a5f;color:#fff}
header a{color:#fff}.brand{font-weight:700;text-decoration:none;font-size:1.1rem}nav{display:flex;gap:1rem;align-items:center;flex:1}
.who{opacity:.8;margin-left:auto}.lang{display:flex;gap:.3rem;align-items:center}.inline{display:inline}
main{max-width:960px;margin:1.5rem auto;padding:0 1rem}h1{font-size:1.5rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #dde1e7;vertical-align:top}
.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:1rem;margin:1rem 0}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:999px;font-size:.85em;background:#e3e8ef}
.badge.escrowed{background:#d8f0de}.badge.failed{background:#fbe0dc}.badge.pending{background:#fff2cc}.badge.missing{background:#eee}
.notice{border-left:4px solid #c0392b;background:#fff;padding:.7rem 1rem;margin:1rem 0}.notice.ok{border-color:#2e8b57}
.notice h2{font-size:1rem;margin:0 0 .3rem}.error{color:#b02a1a;margin:.2rem 0}.muted{color:#5b6472}
.toast{position:sticky;top:0;background:#b02a1a;color:#fff;padding:.7rem 1.2rem;text-align:center}
.info{background:#e8f1fb;border:1px solid #b7d0ee;padding:.6rem 1rem;margin:1rem 0}
label{display:block;margin:.5rem 0 .2rem}input[type=text],input[type=email],input[type=password],textarea{width:100%;max-width:32rem;padding:.45rem;font:inherit}
button{font:inherit;padding:.35rem .9rem;cursor:pointer}.key{font:1.25rem/1.4 ui-monospace,Menlo,Consolas,monospace;letter-spacing:.04em;background:#f0f3f7;padding:.6rem;word-break:break-all}
.actions{display:flex;gap:.6rem;flex-wrap:wrap;margin:.6rem 0}code{font-size:.9em}
`;
