/**
 * Row ids that sort by creation time: RFC 9562 UUIDv7 (48-bit Unix milliseconds, version 7,
 * a 12-bit counter in `rand_a`, variant 10, 62 random bits). New rows land at the right edge of
 * a primary-key index instead of on a random page, which keeps inserts cheap in large tables.
 * Within this process ids strictly increase, even when the clock steps back or more than 4,096
 * ids are made in one millisecond (then the timestamp runs ahead of the clock until it catches up).
 */
import { randomPool } from '../crypto/random-pool.ts';

const COUNTER_MAX = 0xfff;
/** A new millisecond's counter starts below this, leaving room for a burst within it. */
const COUNTER_START_RANGE = 0x400;
const randomBytes8 = randomPool(8);
let lastMs = -1;
let counter = 0;

/** The timestamp and counter of the next id: later than every id made before it here. */
function nextTick(): { ms: number; counter: number } {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = randomBytes8().readUInt16BE(0) % COUNTER_START_RANGE;
  } else if (counter < COUNTER_MAX) {
    counter += 1;
  } else {
    lastMs += 1;
    counter = 0;
  }
  return { ms: lastMs, counter };
}

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}

/** A new UUIDv7, e.g. `019ad3c1-7f2e-7a31-8c4d-5e6f708192a3`. */
export function newId(): string {
  const { ms, counter: seq } = nextTick();
  const random = randomBytes8();
  const timeHigh = Math.floor(ms / 0x10000);
  const timeLow = ms % 0x10000;
  const variantAndRandom = 0x8000 | (random.readUInt16BE(0) & 0x3fff);
  return `${hex(timeHigh, 8)}-${hex(timeLow, 4)}-${hex(0x7000 | seq, 4)}-${hex(variantAndRandom, 4)}-${random.toString('hex', 2, 8)}`;
}
