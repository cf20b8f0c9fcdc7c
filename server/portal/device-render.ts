/**
 * Pieces of the device pages: the status card, the notice (M3 with its cause's guidance, or
 * M4), a volume whose escrowed key no longer works (what the device found, what to do), the
 * volumes table, the latest request, and a revealed key with its countdown.
 */
import { html } from 'hono/html';
import type { Device, KeyKind, RevealedKey } from '../../lib/api/contract.ts';
import type { AppContext } from '../http/context.ts';
import { formatMinutesSeconds } from '../../lib/i18n/format.ts';
import { isMessageId } from '../../lib/i18n/index.ts';
import type { MessageId } from '../../lib/i18n/index.ts';
import { csrfField, tr, type Html } from './layout.ts';
import { formatTime } from './session.ts';
import { platformLabel } from './platform-icons.ts';
import { copyKeyControl } from './copy-key.ts';

/** Product names: shown as their makers write them, in every language. */
const KEY_KIND_NAMES: Record<KeyKind, string> = { filevault: 'FileVault', bitlocker: 'BitLocker', luks: 'LUKS' };

export function statusBadge(c: AppContext, status: Device['keyStatus']): Html {
  return html`<span class="badge ${status}" data-key-status="${status}">${tr(c, `ui.status.${status}`)}</span>`;
}

const M4_TEXT = { stored: 'flow.M4', owner_rotation: 'flow.M4.owner_rotation', it_rotation: 'flow.M4.it_rotation' } as const;

/** The device's own Check access control, next to the message that asks for it. */
export function checkAccessForm(device: Device, csrf: string, label: string, id: string, back?: 'admin'): Html {
  return html`<form method="post" action="/devices/${device.id}/check-access">${csrfField(csrf)}${back ? html`<input type="hidden" name="back" value="${back}">` : ''}<button type="submit" id="${id}">${label}</button></form>`;
}

/**
 * M3 or M4 for the device page. The owner reads M4 worded for what happened (their store, their
 * rotation, IT's rotation) and M3 with its cause; "hasn't checked in" carries the Check access
 * button it names. IT's console leaves out M4, which speaks to the owner, and words M3 for IT.
 */
export function noticeBlock(c: AppContext, device: Device, csrf: string, forOwner = true): Html {
  const n = device.notice;
  if (!n) return html``;
  if (n.message === 'M4' && !forOwner) return html``;
  if (n.message === 'M4') {
    const origin = n.origin ?? 'stored';
    return html`<div class="notice ok" id="notice" data-notice="M4" data-origin="${origin}" data-at="${n.at}" role="status"><p>${tr(c, M4_TEXT[origin])}</p></div>`;
  }
  const cause = n.cause ?? 'device_error';
  const checkAccess = cause === 'not_checked_in' ? checkAccessForm(device, csrf, tr(c, 'ui.check_access'), 'notice-check-access', forOwner ? undefined : 'admin') : '';
  // IT reads M3 worded for IT where there is such a wording, and the device's own words (paths, the tool's message).
  const itText = `portal.it_notice.${cause}`;
  const text: MessageId = !forOwner && isMessageId(itText) ? itText : `flow.M3.${cause}`;
  const detail = !forOwner && device.operation?.detail ? html`<p class="muted" id="device-detail">${tr(c, 'portal.device_said', { detail: device.operation.detail })}</p>` : '';
  return html`<div class="notice" id="notice" data-notice="M3" data-cause="${cause}" data-at="${n.at}" role="alert">
    <h2>${tr(c, forOwner ? 'flow.M3.title' : 'portal.it_notice.title')}</h2><p>${tr(c, text)}</p>${detail}${checkAccess}</div>`;
}

/** Each volume whose escrowed key the device found no longer works: what it found and what to do. */
export function escrowProblemBlocks(c: AppContext, device: Device): Html {
  return html`${device.volumes.filter((v) => v.escrowProblem).map((v) => html`<div class="notice" data-escrow-problem="${v.escrowProblem ?? ''}" data-volume="${v.id}" role="alert">
    <h2>${tr(c, 'portal.escrow_broken.title', { volume: v.name })}</h2>
    <p>${tr(c, `portal.escrow_broken.${v.escrowProblem ?? 'key_rejected'}`)}</p>
    ${device.keyKind === 'luks' ? html`<p>${tr(c, 'portal.escrow_broken.repair')}</p>` : ''}
  </div>`)}`;
}

/** A retired device says so, with when its keys are destroyed. */
export function retiredBlock(c: AppContext, device: Device, retentionDays: number): Html {
  if (!device.retiredAt) return html``;
  return html`<div class="notice explain" id="retired" role="status"><p>${tr(c, 'portal.retired_notice', { time: formatTime(c.get('locale'), device.retiredAt) ?? device.retiredAt, days: retentionDays })}</p></div>`;
}

/** The device's card: its facts, then the device's own action (Check access; the key's actions sit with the key). */
export function statusCard(c: AppContext, device: Device, csrf: string, showOwner: boolean): Html {
  const locale = c.get('locale');
  const deviceActions = device.retiredAt ? '' : html`<div class="actions" id="device-actions">${checkAccessForm(device, csrf, tr(c, 'ui.check_access'), 'check-access', showOwner ? 'admin' : undefined)}</div>`;
  return html`<section class="card" id="device-status">
    <table>
      <tr><th scope="row">${tr(c, 'ui.status')}</th><td>${statusBadge(c, device.keyStatus)}${device.escrowEnabled ? '' : html` <span class="muted">${tr(c, 'portal.escrow_off')}</span>`}</td></tr>
      <tr><th scope="row">${tr(c, 'portal.platform')}</th><td>${platformLabel(device.platform)} · ${KEY_KIND_NAMES[device.keyKind]}</td></tr>
      <tr><th scope="row">${tr(c, 'portal.ownership')}</th><td>${tr(c, `ui.ownership.${device.ownership}`)}</td></tr>
      <tr><th scope="row">${tr(c, 'portal.serial_number')}</th><td id="serial-number">${device.serialNumber ?? html`<span class="muted">${tr(c, 'portal.serial_unknown')}</span>`}</td></tr>
      ${showOwner ? html`<tr><th scope="row">${tr(c, 'portal.owner')}</th><td>${device.ownerName ?? html`<span class="muted" data-no-owner="1">${tr(c, 'portal.no_owner')}</span>`}</td></tr>` : ''}
      <tr><th scope="row">${tr(c, 'ui.last_checkin')}</th><td id="last-checkin">${formatTime(locale, device.lastCheckinAt) ?? tr(c, 'ui.never')}</td></tr>
      ${device.operation
        ? html`<tr><th scope="row">${tr(c, 'portal.operation')}</th><td id="operation" data-operation-state="${device.operation.state}">${tr(c, `portal.operation.${device.operation.kind}`)}: ${tr(c, `portal.operation_state.${device.operation.state}`)} <span class="muted">(${formatTime(locale, device.operation.updatedAt)})</span></td></tr>`
        : ''}
    </table>
    ${deviceActions}
  </section>`;
}

/**
 * Volumes with their key status. Version numbers mean something to IT only (`showVersions`);
 * every row carries its active version for the live script, which hides a revealed key once
 * it is no longer the active one.
 */
export function volumesTable(c: AppContext, device: Device, showProtectors: boolean, showVersions = true): Html {
  return html`<div class="scroll"><table id="volumes">
    <caption class="sr">${tr(c, 'portal.volumes')}</caption>
    <tr><th scope="col">${tr(c, 'portal.volume')}</th><th scope="col">${tr(c, 'portal.key_status')}</th>${showVersions ? html`<th scope="col">${tr(c, 'portal.key_version')}</th>` : ''}${showProtectors ? html`<th scope="col">${tr(c, 'portal.protector_ids')}</th>` : ''}</tr>
    ${device.volumes.map(
      (v) => html`<tr data-volume="${v.id}" data-active-version="${v.activeVersion ?? ''}"><th scope="row">${v.name}</th><td>${v.encrypted === false ? html`<span class="badge missing" data-key-status="not-encrypted">${tr(c, 'portal.not_encrypted')}</span>` : statusBadge(c, v.keyStatus)}${
        v.keyVerifiedAt ? html`<br><span class="muted">${tr(c, 'portal.key_proved')}: ${formatTime(c.get('locale'), v.keyVerifiedAt)}</span>` : ''
      }</td>${showVersions ? html`<td>${v.activeVersion ?? '—'}</td>` : ''}${
        showProtectors ? html`<td>${v.protectorIds.length ? v.protectorIds.map((p) => html`<code>${p}</code><br>`) : '—'}</td>` : ''
      }</tr>`,
    )}
  </table></div>`;
}

/**
 * The revealed key with Copy (copy-key.ts) and a countdown; a nonce'd script hides it after `hideAfterSeconds` and
 * then says so in the live region (the ticking countdown itself is not announced).
 */
export function revealedKeyBlock(c: AppContext, key: RevealedKey): Html {
  return html`<div class="card" id="revealed" data-seconds="${key.hideAfterSeconds}" data-volume="${key.volumeId}" data-version="${key.version}">
    <p id="revealed-label"><strong>${tr(c, 'ext.key_label', { volume: key.volumeName })}</strong>${key.protectorId ? html`<br><span class="muted">${tr(c, 'ext.protector_id', { id: '' })}</span><code>${key.protectorId}</code>` : ''}</p>
    <p class="key" id="revealed-key" aria-labelledby="revealed-label">${key.key}</p>
    ${copyKeyControl(c)}
    <p class="muted" id="countdown" role="timer" data-template="${tr(c, 'flow.hides_in', { time: '{time}' })}">${tr(c, 'flow.hides_in', { time: formatMinutesSeconds(key.hideAfterSeconds) })}</p>
    <p id="revealed-hidden" role="status" data-hidden="${tr(c, 'flow.hidden_after')}" data-replaced="${tr(c, 'flow.key_replaced')}"></p>
  </div>`;
}


export const COUNTDOWN_SCRIPT = `(function(){
var box=document.getElementById('revealed');if(!box)return;
var key=document.getElementById('revealed-key'),out=document.getElementById('countdown');
var end=Date.now()+1000*Number(box.getAttribute('data-seconds'));
function tick(){if(!key||!key.parentNode)return;var s=Math.max(0,Math.round((end-Date.now())/1000));
if(s<=0){if(key&&key.parentNode)key.parentNode.removeChild(key);out.textContent='';var done=document.getElementById('revealed-hidden');if(done)done.textContent=done.getAttribute('data-hidden');return;}
var m=Math.floor(s/60),r=s%60;out.textContent=out.getAttribute('data-template').replace('{time}',m+':'+(r<10?'0':'')+r);setTimeout(tick,1000);}
tick();})();`;
