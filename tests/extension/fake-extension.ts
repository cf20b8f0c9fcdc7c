/**
 * The extension's surroundings for background-module tests in Node: WXT's in-memory fake of
 * the `browser` API (storage.local/session, alarms, runtime) as the global `browser`/`chrome`,
 * and fake-indexeddb for the vault. Import this module FIRST in a test file: `wxt/browser`
 * picks up the global when it is first imported. `resetExtension()` gives each test an empty
 * browser profile (storage, alarms, listeners) and an empty IndexedDB.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { fakeBrowser } from 'wxt/testing/fake-browser';

Object.assign(globalThis, { browser: fakeBrowser, chrome: fakeBrowser });

type RegisteredScript = { id: string; matches?: string[]; js?: string[]; runAt?: string; persistAcrossSessions?: boolean };

/** Content scripts registered at run time (`browser.scripting`), which WXT's fake leaves out. */
export const registeredScripts = new Map<string, RegisteredScript>();
Object.assign(fakeBrowser.scripting, {
  async getRegisteredContentScripts(filter?: { ids?: string[] }): Promise<RegisteredScript[]> {
    return [...registeredScripts.values()].filter((script) => !filter?.ids || filter.ids.includes(script.id));
  },
  async registerContentScripts(scripts: RegisteredScript[]): Promise<void> {
    for (const script of scripts) {
      if (registeredScripts.has(script.id)) throw new Error(`Duplicate script ID '${script.id}'`);
      registeredScripts.set(script.id, script);
    }
  },
  async unregisterContentScripts(filter?: { ids?: string[] }): Promise<void> {
    for (const id of filter?.ids ?? [...registeredScripts.keys()]) registeredScripts.delete(id);
  },
});

/** The browser's UI language as the background reads it (`i18n.getUILanguage`). */
export let uiLanguage = 'en-US';
fakeBrowser.i18n.getUILanguage = () => uiLanguage;

export function setUiLanguage(tag: string): void {
  uiLanguage = tag;
}

export function resetExtension(): void {
  fakeBrowser.reset();
  registeredScripts.clear();
  uiLanguage = 'en-US';
  Object.assign(globalThis, { indexedDB: new IDBFactory() });
}

export { fakeBrowser };
