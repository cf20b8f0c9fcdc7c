/**
 * Device controls drawn on both the owner's and IT's device pages: the volume picker, Rotate
 * (asks once more before acting) and the lifecycle section (retire, then re-enroll).
 */
import { html } from 'hono/html';
import type { Device } from '../../lib/api/contract.ts';
import type { AppContext } from '../http/context.ts';
import { csrfField, tr, type Html } from './layout.ts';

/** A volume picker; its visible label is written by the caller (`<label for=id>`). */
export function volumeSelect(device: Device, id: string): Html {
  return html`<select id="${id}" name="volumeId">${device.volumes.map((v) => html`<option value="${v.id}">${v.name}</option>`)}</select>`;
}

/** Rotate asks once more before acting: the current key stops working once the device has rotated it. */
export function rotateControl(c: AppContext, device: Device, csrf: string, back?: 'admin'): Html {
  return html`<details class="confirm" id="rotate-confirm"><summary>${tr(c, 'ui.rotate')}</summary>
    <form method="post" action="/devices/${device.id}/rotate">${csrfField(csrf)}${back ? html`<input type="hidden" name="back" value="${back}">` : ''}
      <p>${tr(c, 'portal.rotate_confirm')}</p>
      ${device.volumes.length > 1 ? html`<span class="field"><label for="rotate-volume">${tr(c, 'portal.volume')}</label>${volumeSelect(device, 'rotate-volume')}</span>` : ''}
      <button type="submit" id="rotate">${tr(c, 'portal.rotate_now')}</button>
    </form></details>`;
}

/** The admin device page's lifecycle section: retire, or once retired, a re-enrollment token. */
export function lifecycleSection(c: AppContext, device: Device, csrf: string, retentionDays: number): Html {
  return html`<section class="card" id="lifecycle" aria-labelledby="lifecycle-title">
    <h2 id="lifecycle-title">${tr(c, 'portal.retire_title')}</h2>
    ${device.retiredAt
      ? html`<form method="post" action="/admin/devices/${device.id}/reenroll-token">${csrfField(csrf)}<div class="actions"><button type="submit" id="reenroll">${tr(c, 'portal.reenroll_button')}</button></div></form>`
      : html`<p>${tr(c, 'portal.retire_explain', { days: retentionDays })}</p>
        <form method="post" action="/admin/devices/${device.id}/retire">${csrfField(csrf)}<div class="actions"><button type="submit" id="retire">${tr(c, 'portal.retire_button')}</button></div></form>`}
  </section>`;
}
