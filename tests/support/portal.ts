/** A portal account the tests sign in with. */
export type PortalAccount = { email: string; password: string };
