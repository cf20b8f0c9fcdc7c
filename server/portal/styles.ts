/** The portal's stylesheet, inlined with the page's CSP nonce. */
export const STYLES = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Yu Gothic UI","Noto Sans CJK JP",sans-serif;color:#1d2330;background:#f5f6f8}
a{color:#1a55a8}a:hover{color:#0e3a78}
:focus-visible{outline:3px solid #f0b429;outline-offset:2px}
.skip{position:absolute;left:-999px;top:.5rem;background:#fff;color:#1d2330;padding:.4rem .8rem;z-index:10}.skip:focus{left:.5rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
header{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:center;padding:.6rem 1.2rem;background:#1f3a5f;color:#fff}
header a{color:#fff}header a:hover{color:#dbe7f7}header a[aria-current=page]{font-weight:600;text-decoration-thickness:2px;text-underline-offset:.3em}
.brand{font-weight:700;text-decoration:none;font-size:1.1rem}nav{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
.account{display:flex;flex-wrap:wrap;gap:.4rem .8rem;align-items:center;margin-left:auto}.who{color:#dbe3ee}.lang{display:flex;gap:.3rem;align-items:center}.lang label{margin:0;display:flex;gap:.3rem;align-items:center}.inline{display:inline}
main{max-width:960px;margin:1.5rem auto;padding:0 1rem}h1{font-size:1.5rem;margin:.2rem 0 1rem}
.crumb{margin:0 0 .4rem}.narrow{max-width:30rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #dde1e7;vertical-align:top}
.card>table th,.card>table td{padding-left:0}.card>table tr:last-child>*{border-bottom:0}
.scroll{overflow-x:auto}
.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:1rem 1.2rem;margin:1rem 0}.card h2{font-size:1.15rem;margin:0 0 .6rem}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:999px;font-size:.85em;background:#e3e8ef;border:1px solid #c5cdd8;white-space:nowrap}
.badge.escrowed{background:#d8f0de;border-color:#9fd2ad}.badge.failed{background:#fbe0dc;border-color:#eaa79c}.badge.broken{background:#fbe0dc;border-color:#c0392b}.badge.pending{background:#fff2cc;border-color:#e6cf85}.badge.missing{background:#eef0f3}
.notice{border:1px solid #dde1e7;border-left:4px solid #c0392b;background:#fff;padding:.7rem 1rem;margin:1rem 0;border-radius:4px}.notice.ok{border-left-color:#2e8b57}.notice.explain{border-left-color:#1a55a8}
.notice h2{font-size:1rem;margin:0 0 .3rem}.notice p{margin:.2rem 0}.error{color:#a52414;margin:.2rem 0}.muted{color:#545d6b}.hint{color:#545d6b;font-size:.9em;margin:.15rem 0 .3rem}
.toast{position:sticky;top:0;z-index:5;background:#a52414;color:#fff;padding:.7rem 1.2rem;text-align:center}
details.confirm{display:inline-block}details.confirm>summary{display:inline-block;list-style:none;padding:.4rem 1rem;cursor:pointer;border:1px solid #8a94a3;border-radius:4px;background:#fff}details.confirm>summary::-webkit-details-marker{display:none}details.confirm[open]>form{border:1px solid #e3b341;background:#fff8e5;padding:.6rem 1rem;margin:.5rem 0;border-radius:4px}
.info{background:#e8f1fb;border:1px solid #b7d0ee;padding:.6rem 1rem;margin:1rem 0;border-radius:4px}
label{display:block;margin:.6rem 0 .2rem;font-weight:500}input[type=text],input[type=email],input[type=password],input[type=number],textarea,select{font:inherit;padding:.4rem .5rem;border:1px solid #8a94a3;border-radius:4px;background:#fff;color:inherit}
input[type=text],input[type=email],input[type=password],textarea{width:100%;max-width:32rem}
input[aria-invalid=true]{border-color:#a52414;box-shadow:0 0 0 1px #a52414}
header select{padding:.2rem .3rem;color:#1d2330}
button{font:inherit;padding:.4rem 1rem;cursor:pointer;border:1px solid #8a94a3;border-radius:4px;background:#fff;color:#1d2330}button:hover{background:#eef2f7}
button.primary,form>.actions>button[type=submit]:first-of-type{background:#1f5fbf;border-color:#1f5fbf;color:#fff}button.primary:hover,form>.actions>button[type=submit]:first-of-type:hover{background:#184d9c}
header button{padding:.25rem .7rem}
.key{font:1.25rem/1.4 ui-monospace,Menlo,Consolas,monospace;letter-spacing:.04em;background:#f0f3f7;padding:.6rem;word-break:break-all;margin:.3rem 0}
.actions{display:flex;gap:.6rem;flex-wrap:wrap;align-items:flex-end;margin:.6rem 0}.actions form{display:flex;gap:.4rem;align-items:flex-end;flex-wrap:wrap;margin:0}.actions label{margin:0 0 .2rem}
.field{display:flex;flex-direction:column}.card>form>.actions:last-child{margin-bottom:0}
code{font-size:.9em;overflow-wrap:anywhere}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.6rem 0}dl.meta dt{font-weight:500}dl.meta dd{margin:0}
a.button{display:inline-block;padding:.5rem 1.1rem;border-radius:4px;background:#1f5fbf;color:#fff;text-decoration:none}a.button:hover{background:#184d9c}.danger{border-color:#a52414;color:#a52414}
.platform{display:inline-flex;gap:.35rem;align-items:center;vertical-align:middle}.platform-icon{flex:none;order:-1}
ul.device-cards{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:1rem}ul.device-cards>li.card{margin:0}.device-card h2 a{text-decoration:none}.device-card p{margin:.35rem 0}
.copy-status{min-height:1.4em}
`;
