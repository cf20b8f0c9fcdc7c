/** The UI's typed channel to the background (lib/client/messages.ts). */
import { browser } from 'wxt/browser';
import { createMessenger } from '../lib/client/messages.ts';

export const sendMessage = createMessenger((message) => browser.runtime.sendMessage(message));
