import { defineConfig } from 'wxt';
import preact from '@preact/preset-vite';
import { CHROME_EXTENSION_PUBLIC_KEY, FIREFOX_GECKO_ID } from './lib/extension-identity.ts';
import { messageTableFiles } from './lib/i18n/extension/table-files.ts';

/** Loopback origins (any port) are granted at install for the embedded service and the demo. */
const LOOPBACK = ['http://127.0.0.1/*', 'http://localhost/*'];

export default defineConfig({
  modules: ['@wxt-dev/webextension-polyfill'],
  manifestVersion: 3,
  vite: () => ({ plugins: [preact()] }),
  // Each locale's extension messages as `i18n/<locale>.json`: a context loads only the one it shows.
  hooks: { 'build:publicAssets': (_wxt, files) => void files.push(...messageTableFiles()) },
  manifest: ({ browser }) => ({
    name: '__MSG_extName__',
    description: '__MSG_extDescription__',
    default_locale: 'en',
    permissions: [
      'storage', 'alarms', 'scripting', 'idle', 'clipboardWrite', 'clipboardRead',
      // identity: Firefox signs in with launchWebAuthFlow (its extension UUID is random per install).
      ...(browser === 'firefox' ? ['identity'] : ['offscreen']),
    ],
    host_permissions: LOOPBACK,
    optional_host_permissions: ['https://*/*', 'http://*/*'],
    // Chrome/Edge: the service redirects sign-in to callback.html, which only our pinned id can receive.
    ...(browser === 'firefox' ? {} : { web_accessible_resources: [{ resources: ['callback.html'], matches: ['<all_urls>'] }] }),
    content_security_policy: {
      // 'wasm-unsafe-eval': the vault's scrypt core is WebAssembly. connect-src: the service URL is the user's choice.
      extension_pages: [
        "default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "style-src 'self' 'unsafe-inline'", "img-src 'self'",
        "connect-src 'self' https: http:", "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
      ].join('; '),
    },
    action: { default_title: 'Keyward' },
    ...(browser === 'firefox'
      ? {
        browser_specific_settings: {
          gecko: { id: FIREFOX_GECKO_ID, strict_min_version: '128.0', data_collection_permissions: { required: ['none'] } },
        },
      }
      // The public key pins the Chrome/Edge extension id the service allow-lists by default.
      : { key: CHROME_EXTENSION_PUBLIC_KEY }),
  }),
});
