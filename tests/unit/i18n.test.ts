import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Locale } from '../../lib/api/contract.ts';
import type { MessageId } from '../../lib/i18n/catalog.ts';
import * as extension from '../../lib/i18n/extension/index.ts';
import { messageTableFiles } from '../../lib/i18n/extension/table-files.ts';
import { lookUp, parseMessageTable } from '../../lib/i18n/extension/table.ts';
import * as portal from '../../lib/i18n/portal/index.ts';
import { catalogFor, isMessageId, LOCALES, pickLocale, t } from '../../lib/i18n/index.ts';

/** The two parts of every locale: what the extension shows and what only the service shows. */
const PARTS: Record<'extension' | 'portal', Record<Locale, Partial<Record<MessageId, string>>>> = { extension, portal };
const en: Record<string, string> = { ...extension.en, ...portal.en };
const ids = Object.keys(en) as MessageId[];
const translated = LOCALES.filter((l) => l !== 'en');

/**
 * Strings that may read exactly as in English: proper names, and words the seeds
 * themselves keep (the portal's "Status" menu in the Swedish, Dutch and Danish help pages).
 */
const SAME_AS_ENGLISH: Partial<Record<MessageId, Locale[]>> = {
  'portal.title': ['sv', 'nl', 'ja', 'da'],
  'ui.status': ['sv', 'nl', 'da'],
};

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe.each(translated)('locale %s', (locale) => {
  const catalog = catalogFor(locale);

  it('translates every English message id, and nothing else', () => {
    expect(ids.filter((id) => !catalog[id]?.trim())).toEqual([]);
    expect(Object.keys(catalog).filter((id) => !(id in en))).toEqual([]);
  });

  it.each(['extension', 'portal'] as const)('translates every id of the %s part in that part, and nothing else', (part) => {
    const english = PARTS[part].en;
    const own = PARTS[part][locale];
    expect(Object.keys(english).filter((id) => !own[id as MessageId]?.trim())).toEqual([]);
    expect(Object.keys(own).filter((id) => !(id in english))).toEqual([]);
  });

  it('keeps the same placeholders as English', () => {
    const mismatched = ids.filter((id) => catalog[id] !== undefined && placeholders(catalog[id] ?? '').join() !== placeholders(en[id]).join());
    expect(mismatched).toEqual([]);
  });

  it('has no message left in English except proper names', () => {
    const untranslated = ids.filter((id) => catalog[id] === en[id] && !SAME_AS_ENGLISH[id]?.includes(locale));
    expect(untranslated).toEqual([]);
  });
});

describe('the two parts', () => {
  it('every id lives in exactly one part', () => {
    expect(Object.keys(extension.en).filter((id) => id in portal.en)).toEqual([]);
    expect(ids.length).toBe(Object.keys(extension.en).length + Object.keys(portal.en).length);
  });

  it('the service reads both parts', () => {
    expect(t('sv', 'ext.settings')).toBe(extension.sv['ext.settings']);
    expect(t('sv', 'portal.title')).toBe(portal.sv['portal.title']);
    expect(isMessageId('ext.settings') && isMessageId('portal.title')).toBe(true);
    expect(isMessageId('portal.no_such_message')).toBe(false);
  });

  it('the build writes one table per locale with every message of the extension part and none of the portal part', () => {
    const files = messageTableFiles();
    expect(files.map((f) => f.relativeDest).sort()).toEqual(LOCALES.map((l) => `i18n/${l}.json`).sort());
    for (const locale of LOCALES) {
      const table = parseMessageTable(JSON.parse(files.find((f) => f.relativeDest === `i18n/${locale}.json`)?.contents ?? 'null'));
      expect(table).toEqual(extension[locale]);
      expect(Object.keys(table ?? {}).filter((id) => id in portal.en)).toEqual([]);
    }
  });

  it('a table is used only when it is a flat map of strings; a message it lacks shows its id', () => {
    expect(parseMessageTable(['x'])).toBeNull();
    expect(parseMessageTable({ 'ext.settings': 1 })).toBeNull();
    expect(parseMessageTable('text')).toBeNull();
    const table = parseMessageTable({ 'flow.no_key': 'Ask {contact}' });
    expect(table && lookUp(table, 'flow.no_key', { contact: 'IT' })).toBe('Ask IT');
    expect(table && lookUp(table, 'ext.settings')).toBe('ext.settings');
  });
});

describe('messages', () => {
  it('Japanese is fully translated, including what the Japanese help page left in English', () => {
    const catalog = catalogFor('ja');
    const withoutJapanese = ids.filter((id) => !/[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u.test(catalog[id] ?? '') && !SAME_AS_ENGLISH[id]?.includes('ja'));
    expect(withoutJapanese).toEqual([]);
    expect(t('ja', 'flow.M2')).toBe('デバイスの回復キーを更新できませんでした。詳細については、デバイスを開いてください。');
    expect(t('ja', 'flow.M3.title')).toBe('回復キーをアップロードできませんでした。');
  });

  it('uses the help pages’ wording for the confirm-field message and the portal labels', () => {
    expect(t('sv', 'flow.M1')).toBe('Nycklarna måste överensstämma. Kontrollera nycklarna och försök igen.');
    expect(t('nl', 'flow.M1')).toBe('De sleutels moeten overeenkomen. Controleer de sleutels en probeer het opnieuw.');
    expect(t('ja', 'flow.M1')).toBe('キーは一致している必要があります。キーを確認して、もう一度お試しください。');
    expect([t('sv', 'ui.store_key'), t('nl', 'ui.store_key'), t('ja', 'ui.store_key')]).toEqual(['Lagra återställningsnyckel', 'Herstelsleutel opslaan', '回復キーの保存']);
    expect([t('sv', 'ui.check_access'), t('nl', 'ui.check_access'), t('ja', 'ui.check_access')]).toEqual(['Kontrollera åtkomst', 'Toegang controleren', 'アクセスの確認']);
  });

  it('the M3 check-in guidance names the localized Check access control (shown with it), not a Status menu that does not exist', () => {
    for (const locale of LOCALES) {
      const text = t(locale, 'flow.M3.not_checked_in');
      expect(text).toContain(t(locale, 'ui.check_access'));
      expect(text).not.toContain(`${t(locale, 'ui.status')} >`);
      expect(text).not.toContain(`[${t(locale, 'ui.status')}]`);
    }
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(t('da', 'flow.no_key', { contact: 'it@example.com' })).toBe('Der blev ikke fundet nogen genoprettelsesnøgle til denne enhed. Kontakt IT-support: it@example.com');
    expect(t('nl', 'flow.no_key')).toContain('{contact}');
  });
});

describe('pickLocale', () => {
  it.each([
    ['sv-SE,en;q=0.8', 'sv'],
    ['en-US,en;q=0.9,ja;q=0.8', 'en'],
    ['fr-FR,fr;q=0.9,nl;q=0.5', 'nl'],
    ['de-DE, da-DK;q=0.7, ja;q=0.8', 'ja'],
    ['sv;q=0,da', 'da'],
    ['JA-jp', 'ja'],
    ['fr-FR', 'en'],
    ['', 'en'],
  ])('%j → %s', (header, expected) => {
    expect(pickLocale(header)).toBe(expected);
  });
});

describe('extension manifest locales (public/_locales)', () => {
  const read = (locale: Locale) =>
    JSON.parse(readFileSync(new URL(`../../public/_locales/${locale}/messages.json`, import.meta.url), 'utf8')) as Record<string, { message: string }>;

  it.each(LOCALES)('%s has the name and a description the stores accept', (locale) => {
    const messages = read(locale);
    expect(messages.extName.message).toBe('Keyward');
    expect(messages.extDescription.message.length).toBeGreaterThan(20);
    expect(messages.extDescription.message.length).toBeLessThanOrEqual(132);
    if (locale !== 'en') expect(messages.extDescription.message).not.toBe(read('en').extDescription.message);
  });
});
