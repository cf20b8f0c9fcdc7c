/** The UI's typed channel to the background (utils/client/messages.ts). */
import { browser } from 'wxt/browser';
import { createMessenger } from './client/messages.ts';

export const sendMessage = createMessenger((message) => browser.runtime.sendMessage(message));
