/**
 * The live part of a device page: the pending line, the notice (M3/M4), the status card and
 * the volumes, drawn from the device's state as the service knows it now. The page renders it
 * once; a nonce'd script fetches it again (short polling) while an operation is open, while a
 * key is shown (on the page, or in the extension's panel: `data-keyward-watching` on <body>),
 * and when the extension's panel says something changed (`keyward:changed` on document). So the
 * page and the panels show one state, and a shown key is hidden the moment it stops being the
 * active one. Without JavaScript the page is the plain page, current when loaded.
 */
import { html } from 'hono/html';
import type { Device } from '../../lib/api/contract.ts';
import type { AppContext } from '../http/context.ts';
import { tr, type Html } from './layout.ts';
import { escrowProblemBlocks, noticeBlock, retiredBlock, statusCard, volumesTable } from './device-render.ts';

/** How often an open operation or a shown key is looked at again. */
export const LIVE_POLL_MS = 2000;

export type LiveAudience = 'owner' | 'it';

function isOpen(device: Device): boolean {
  const state = device.operation?.state;
  return state === 'queued' || state === 'in_progress';
}

/** "Saving…" or "Rotation requested" while the device has yet to act, unless M3 already says why it has not. */
function pendingLine(c: AppContext, device: Device): Html {
  if (!isOpen(device) || device.notice) return html``;
  const text = device.operation?.kind === 'verify-and-rotate' ? tr(c, 'flow.pending') : tr(c, 'flow.rotating');
  return html`<p class="info" id="pending" role="status" data-operation="${device.operation?.id ?? ''}">${text}</p>`;
}

export function liveUrl(device: Device, audience: LiveAudience): string {
  return audience === 'owner' ? `/devices/${device.id}/live` : `/admin/devices/${device.id}/live`;
}

export function liveRegion(c: AppContext, device: Device, csrf: string, audience: LiveAudience, retentionDays: number): Html {
  const owner = audience === 'owner';
  return html`<div id="device-live" data-live-url="${liveUrl(device, audience)}" data-live-open="${isOpen(device) ? '1' : '0'}">
    ${retiredBlock(c, device, retentionDays)}
    ${pendingLine(c, device)}
    ${noticeBlock(c, device, csrf, owner)}
    ${escrowProblemBlocks(c, device)}
    ${statusCard(c, device, csrf, !owner)}
    ${volumesTable(c, device, !owner || device.keyKind === 'bitlocker', !owner)}
  </div>`;
}

export const LIVE_SCRIPT = `(function(){
var live=document.getElementById('device-live');if(!live)return;
var url=live.getAttribute('data-live-url'),last=null,timer=0;
function shownKey(){return document.getElementById('revealed-key');}
function hideReplaced(){var box=document.getElementById('revealed'),key=shownKey();if(!box||!key)return;
var row=live.querySelector('tr[data-volume="'+box.getAttribute('data-volume')+'"]');
if(!row||row.getAttribute('data-active-version')===box.getAttribute('data-version'))return;
key.parentNode.removeChild(key);var out=document.getElementById('countdown');if(out)out.textContent='';
var note=document.getElementById('revealed-hidden');if(note)note.textContent=note.getAttribute('data-replaced');}
function wanted(){return live.getAttribute('data-live-open')==='1'||!!shownKey()||document.body.getAttribute('data-keyward-watching')==='1';}
function schedule(ms,force){clearTimeout(timer);if(force||wanted())timer=setTimeout(refresh,ms);}
function refresh(){fetch(url,{credentials:'same-origin',headers:{accept:'text/html'}}).then(function(r){return r.ok?r.text():null;}).then(function(text){
if(text!==null&&text!==last){last=text;var t=document.createElement('template');t.innerHTML=text;var next=t.content.firstElementChild;
if(next&&next.id==='device-live'){live.replaceWith(next);live=next;}}
hideReplaced();schedule(${LIVE_POLL_MS});},function(){schedule(${LIVE_POLL_MS});});}
document.addEventListener('keyward:changed',function(){schedule(0,true);});
schedule(${LIVE_POLL_MS});})();`;
