/**
 * The result and error shapes of recovery-key validation, shared by every key format.
 * Positions and group numbers are 1-based, as a person counts them in what they typed.
 */
export type KeyErrorCode =
  | 'empty'
  | 'bad_char'
  | 'length'
  | 'too_long'
  | 'group_count'
  | 'group_length'
  | 'group_not_multiple_of_11'
  | 'group_too_large';

export type KeyError = {
  code: KeyErrorCode;
  /** The first group with this problem. */
  group?: number;
  /** Every group with this problem, in order (group_length and the BitLocker group rules). */
  groups?: number[];
  /** Where the bad character is in the input as typed (in characters, from 1). */
  position?: number;
  /** The bad character exactly as typed. */
  char?: string;
  expected?: number;
  actual?: number;
};

export type ParsedKey = { ok: true; normalized: string; display: string } | { ok: false; error: KeyError };
