/**
 * Copy on a key the portal shows (plain page, no extension): the button copies the key, then
 * clears the clipboard after the extension's own delay, saying so in a live region. The page's
 * Permissions-Policy refuses `clipboard-read`, so the script cannot check that the clipboard
 * still holds the key; it writes an empty string only while the page is in front and nothing
 * else was copied on it since, and otherwise says it could not clear. The button is `hidden`
 * until the nonce'd script shows it: without JavaScript the key stays selectable text.
 */
import { html } from 'hono/html';
import { CLIPBOARD_CLEAR_SECONDS } from '../../lib/keys/exposure.ts';
import type { AppContext } from '../http/context.ts';
import { tr, type Html } from './layout.ts';

/** The same delay the extension's popup uses unless its person changed it. */
export const PORTAL_CLIPBOARD_SECONDS = CLIPBOARD_CLEAR_SECONDS;

/** The Copy button and its status line, for inside the revealed-key block. */
export function copyKeyControl(c: AppContext): Html {
  return html`<div class="actions"><button type="button" id="copy-key" hidden data-seconds="${PORTAL_CLIPBOARD_SECONDS}"
      data-copied="${tr(c, 'ui.copied', { seconds: PORTAL_CLIPBOARD_SECONDS })}" data-failed="${tr(c, 'ext.copy_failed')}"
      data-cleared="${tr(c, 'portal.clipboard_cleared')}" data-not-cleared="${tr(c, 'portal.clipboard_not_cleared')}">${tr(c, 'ui.copy')}</button></div>
    <p class="copy-status" id="copy-status" role="status"></p>`;
}

export const COPY_SCRIPT = `(function(){
var btn=document.getElementById('copy-key'),out=document.getElementById('copy-status'),box=document.getElementById('revealed');
if(!btn||!out||!box||!navigator.clipboard||!navigator.clipboard.writeText)return;
var timer=0,copiedSince=false;
function say(name){out.textContent=btn.getAttribute('data-'+name);}
function shown(){return document.getElementById('revealed-key');}
btn.hidden=false;
new MutationObserver(function(){if(!shown())btn.hidden=true;}).observe(box,{childList:true,subtree:true});
document.addEventListener('copy',function(){copiedSince=true;});
function wipe(){navigator.clipboard.writeText('').then(function(){say('cleared');},function(){say('not-cleared');});}
function clearLater(){if(!document.hasFocus()||copiedSince){say('not-cleared');return;}wipe();}
btn.addEventListener('click',function(){var key=shown();if(!key)return;
navigator.clipboard.writeText(key.textContent.trim()).then(function(){copiedSince=false;clearTimeout(timer);say('copied');
timer=setTimeout(clearLater,1000*Number(btn.getAttribute('data-seconds')));},function(){say('failed');});});
})();`;
