/**
 * The portal looks like a product, on both databases: the owner's devices are cards with a
 * platform icon beside the platform's written name (the icon hidden from assistive technology,
 * drawn inline: no external asset); the IT console and the device pages show the same label;
 * the owner's device page keeps the device's action (Check access) apart from the key's (Get,
 * Rotate, in the key's card); and every key the portal shows has Copy, hidden until the page's
 * own nonce'd script shows it (without JavaScript the key stays plain selectable text).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, FV_KEY_1, FV_KEY_2, portalLogin, postForm, TestAgent, type FormCredentials, type Harness } from './harness.ts';

const ICON = (platform: string) => new RegExp(`<span class="platform" data-platform="${platform}"><span class="platform-name">[^<]+</span><svg class="platform-icon" data-platform-icon="${platform}" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">[^]*?</svg></span>`);

describe.each(['sqlite', 'postgres'] as const)('device cards, platform icons and Copy on %s', (kind) => {
  let h: Harness;
  let owner: FormCredentials;
  let admin: FormCredentials;
  let mac: TestAgent;
  let windows: TestAgent;
  let linux: TestAgent;
  let corporateMac: TestAgent;
  beforeAll(async () => {
    h = await createHarness(kind);
    owner = await portalLogin(h, h.people.owner.id);
    admin = await portalLogin(h, h.people.admin.id);
    mac = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'personal', name: 'Card Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
    windows = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: 'Card PC', platform: 'windows', keyKind: 'bitlocker', volumes: [{ ref: 'C:', name: 'C:' }] });
    linux = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: 'Card Laptop', platform: 'linux', keyKind: 'luks', volumes: [{ ref: '/dev/nvme0n1p3', name: 'root' }] });
    corporateMac = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: 'Card Work Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function get(path: string, as: FormCredentials): Promise<string> {
    const res = await h.app.request(path, { headers: { cookie: as.cookie } });
    expect(res.status).toBe(200);
    return res.text();
  }

  /** Stores a key through the plain form and lets the agent verify and rotate it. */
  async function storeAndRotate(agent: TestAgent, as: FormCredentials): Promise<void> {
    expect((await postForm(h.app, `/devices/${agent.deviceId}/keys`, as, { key: FV_KEY_1, confirmKey: FV_KEY_1 })).status).toBe(303);
    const [task] = await agent.checkin();
    const escrowed = await agent.escrow(task.operationId, FV_KEY_2);
    await agent.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId });
  }

  it('My devices shows one card per device with its platform icon (hidden from assistive technology) and name', async () => {
    const text = await get('/devices', owner);
    expect(text).toContain('<ul id="devices" class="device-cards">');
    for (const [agent, platform, name] of [[mac, 'macos', 'macOS'], [windows, 'windows', 'Windows'], [linux, 'linux', 'Linux']] as const) {
      const card = new RegExp(`<li class="card device-card" data-device="${agent.deviceId}"[^>]*>([^]*?)</li>`).exec(text)?.[1] ?? '';
      expect(card).toMatch(ICON(platform));
      expect(card).toContain(`<span class="platform-name">${name}</span>`);
      expect(card).toContain(`href="/devices/${agent.deviceId}"`);
      expect(card).toContain('data-key-status=');
    }
    // Inline drawings only: no image, no external asset, no style attribute for the CSP to refuse.
    expect(text).not.toMatch(/<img\b|<use\b|xlink:href|\sstyle="/);
  });

  it('the IT console list and both device pages show the same icon and name', async () => {
    const console = await get('/admin/devices', admin);
    const row = new RegExp(`<tr data-device="${windows.deviceId}">([^]*?)</tr>`).exec(console)?.[1] ?? '';
    expect(row).toMatch(ICON('windows'));
    expect(await get(`/devices/${linux.deviceId}`, owner)).toMatch(ICON('linux'));
    expect(await get(`/admin/devices/${mac.deviceId}`, admin)).toMatch(ICON('macos'));
  });

  it("device pages keep Check access in the device's card and Rotate with Get recovery key, in the key's card", async () => {
    const text = await get(`/devices/${corporateMac.deviceId}`, owner);
    const deviceCard = /<section class="card" id="device-status">[^]*?<\/section>/.exec(text)?.[0] ?? '';
    expect(deviceCard).toMatch(/<div class="actions" id="device-actions"><form method="post" action="\/devices\/[^"]+\/check-access"><input type="hidden" name="_csrf" value="[^"]+"><button type="submit" id="check-access">Check access<\/button><\/form><\/div>/);
    // IT's device card has it too, and comes back to IT's page.
    const itCard = /<section class="card" id="device-status">[^]*?<\/section>/.exec(await get(`/admin/devices/${corporateMac.deviceId}`, admin))?.[0] ?? '';
    expect(itCard).toContain('<input type="hidden" name="back" value="admin"><button type="submit" id="check-access">');
    const getCard = /<section class="card" id="get"[^]*?<\/section>/.exec(text)?.[0] ?? '';
    expect(getCard).toContain('id="get-form"');
    expect(getCard).toContain('<div class="actions" id="key-actions"><details class="confirm" id="rotate-confirm">');
    expect(/<div class="actions" id="device-actions">[^]*?<\/div>/.exec(text)?.[0]).not.toContain('rotate');
  });

  it('a key the owner gets has Copy, hidden until the page script shows it, with the clearing delay and a live status line', async () => {
    await storeAndRotate(mac, owner);
    const text = await (await postForm(h.app, `/devices/${mac.deviceId}/reveal`, owner, {})).text();
    const box = /<div class="card" id="revealed"[^]*?id="revealed-hidden"/.exec(text)?.[0] ?? '';
    expect(box).toContain(FV_KEY_2);
    expect(box).toMatch(/<button type="button" id="copy-key" hidden data-seconds="30"\s+data-copied="Copied. The clipboard is cleared in 30 s."/);
    expect(box).toContain('data-cleared="The clipboard was cleared."');
    expect(box).toContain('<p class="copy-status" id="copy-status" role="status"></p>');
    const nonce = /<style nonce="([^"]+)">/.exec(text)?.[1] ?? '';
    // The nonce is base64: '+' and '/' must not be read as regular-expression syntax.
    const scripts = [...text.matchAll(/<script nonce="([^"]+)">([^]*?)<\/script>/g)];
    expect(nonce).not.toBe('');
    expect(scripts.some(([, scriptNonce, body]) => scriptNonce === nonce && body.includes("getElementById('copy-key')"))).toBe(true);
    // Nothing to copy, no button.
    expect(await get(`/devices/${mac.deviceId}`, owner)).not.toContain('id="copy-key"');
  });

  it('the status line speaks the reader\'s language', async () => {
    expect((await postForm(h.app, '/locale', owner, { locale: 'sv', next: '/devices' })).status).toBe(303);
    const text = await (await postForm(h.app, `/devices/${mac.deviceId}/reveal`, owner, {})).text();
    expect(text).toContain('data-copied="Kopierad. Urklipp töms om 30 s."');
    expect(text).toContain('data-cleared="Urklipp har tömts."');
    expect(text).toContain('>Kopiera</button>');
    await postForm(h.app, '/locale', owner, { locale: 'en', next: '/devices' });
  });

  it('a corporate key IT views has Copy too', async () => {
    await storeAndRotate(corporateMac, owner);
    const res = await postForm(h.app, `/admin/devices/${corporateMac.deviceId}/reveal`, admin, { volumeId: '', reason: 'Owner locked out at the front desk' });
    const text = await res.text();
    expect(text).toContain(FV_KEY_2);
    expect(text).toContain('id="copy-key" hidden');
  });
});
