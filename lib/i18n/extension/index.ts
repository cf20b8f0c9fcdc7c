/** Every locale's catalog of the extension part, by locale code. */
export { en } from './en.ts';
export { sv } from './sv.ts';
export { nl } from './nl.ts';
export { ja } from './ja.ts';
export { da } from './da.ts';
