/** The vault's passphrase rule, shared by the vault and the pages that ask for a new passphrase. */
export const MIN_PASSPHRASE_LENGTH = 8;
