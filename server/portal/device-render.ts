/**
 * Pieces of the device pages: the status card, the notice (M3 with its cause's guidance, or
 * M4), the volumes table, the latest request, and a revealed key with its countdown.
 */
import { html } from 'hono/html';
import type { Device, RevealedKey } from '../../lib/api/contract.ts';
import type { AppContext } from '../http/context.ts';
import { tr, type Html } from './layout.ts';
import { formatTime } from './session.ts';

export function statusBadge(c: AppContext, status: Device['keyStatus']): Html {
  return html`<span class="badge ${status}" data-key-status="${status}">${tr(c, `ui.status.${status}`)}</span>`;
}

export function noticeBlock(c: AppContext, device: Device): Html {
  const n = device.notice;
  if (!n) return html``;
  if (n.message === 'M4') return html`<div class="notice ok" id="notice" data-notice="M4" role="status"><p>${tr(c, 'flow.M4')}</p></div>`;
  const cause = n.cause ?? 'device_error';
  return html`<div class="notice" id="notice" data-notice="M3" data-cause="${cause}" role="alert">
    <h2>${tr(c, 'flow.M3.title')}</h2><p>${tr(c, `flow.M3.${cause}`)}</p></div>`;
}

export function statusCard(c: AppContext, device: Device, showOwner: boolean): Html {
  const locale = c.get('locale');
  return html`<section class="card" id="device-status">
    <table>
      <tr><th>${tr(c, 'ui.status')}</th><td>${statusBadge(c, device.keyStatus)}${device.escrowEnabled ? '' : html` <span class="muted">${tr(c, 'portal.escrow_off')}</span>`}</td></tr>
      <tr><th>${tr(c, 'portal.platform')}</th><td>${device.platform} · ${device.keyKind}</td></tr>
      <tr><th>${tr(c, 'portal.ownership')}</th><td>${tr(c, `ui.ownership.${device.ownership}`)}</td></tr>
      ${showOwner ? html`<tr><th>${tr(c, 'portal.owner')}</th><td>${device.ownerName}</td></tr>` : ''}
      <tr><th>${tr(c, 'ui.last_checkin')}</th><td id="last-checkin">${formatTime(locale, device.lastCheckinAt) ?? tr(c, 'ui.never')}</td></tr>
      ${device.operation
        ? html`<tr><th>${tr(c, 'portal.operation')}</th><td id="operation" data-operation-state="${device.operation.state}">${tr(c, `portal.operation.${device.operation.kind}`)}: ${tr(c, `portal.operation_state.${device.operation.state}`)} <span class="muted">(${formatTime(locale, device.operation.updatedAt)})</span></td></tr>`
        : ''}
    </table>
  </section>`;
}

export function volumesTable(c: AppContext, device: Device, showProtectors: boolean): Html {
  return html`<table id="volumes">
    <tr><th>${tr(c, 'portal.volume')}</th><th>${tr(c, 'portal.key_status')}</th><th>${tr(c, 'portal.key_version')}</th>${showProtectors ? html`<th>${tr(c, 'portal.protector_ids')}</th>` : ''}</tr>
    ${device.volumes.map(
      (v) => html`<tr data-volume="${v.id}"><td>${v.name}</td><td>${statusBadge(c, v.keyStatus)}</td><td>${v.activeVersion ?? '—'}</td>${
        showProtectors ? html`<td>${v.protectorIds.length ? v.protectorIds.map((p) => html`<code>${p}</code><br>`) : '—'}</td>` : ''
      }</tr>`,
    )}
  </table>`;
}

/** The revealed key with a countdown; a nonce'd script hides it after `hideAfterSeconds`. */
export function revealedKeyBlock(c: AppContext, key: RevealedKey): Html {
  return html`<div class="card" id="revealed" data-seconds="${key.hideAfterSeconds}">
    <p>${key.volumeName}${key.protectorId ? html` · <code>${key.protectorId}</code>` : ''}</p>
    <p class="key" id="revealed-key">${key.key}</p>
    <p class="muted" id="countdown" data-template="${tr(c, 'flow.hides_in', { time: '{time}' })}" data-hidden="${tr(c, 'flow.hidden_after')}">${tr(c, 'flow.hidden_after')}</p>
  </div>`;
}

export const COUNTDOWN_SCRIPT = `(function(){
var box=document.getElementById('revealed');if(!box)return;
var key=document.getElementById('revealed-key'),out=document.getElementById('countdown');
var end=Date.now()+1000*Number(box.getAttribute('data-seconds'));
function tick(){var s=Math.max(0,Math.round((end-Date.now())/1000));
if(s<=0){if(key&&key.parentNode)key.parentNode.removeChild(key);out.textContent=out.getAttribute('data-hidden');return;}
var m=Math.floor(s/60),r=s%60;out.textContent=out.getAttribute('data-template').replace('{time}',m+':'+(r<10?'0':'')+r);setTimeout(tick,1000);}
tick();})();`;
