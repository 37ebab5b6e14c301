/**
 * How an SMS is encoded and split, as carriers do it (3GPP TS 23.038 / 23.040):
 *
 * - **GSM-7** when every character is in the GSM 03.38 default alphabet or its extension
 *   table; an extension character (`^ { } \ [ ~ ] | €` and form feed) takes two septets
 *   (an escape and the character). One part holds 160 septets; a longer message is sent in
 *   parts of 153 (7 septets go to the concatenation header), and an escape pair is never
 *   split between two parts.
 * - **UCS-2** (UTF-16) as soon as one character is outside GSM-7 — any Chinese character,
 *   most emoji, curly quotes. One part holds 70 code units; longer messages go in parts of
 *   67, and a surrogate pair (an emoji outside the BMP takes two units) is never split.
 */

export type SmsEncoding = "GSM-7" | "UCS-2";

export interface SmsCount {
  encoding: SmsEncoding;
  /** Characters as people count them (Unicode code points). */
  characters: number;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2): what the parts are filled with. */
  units: number;
  /** Parts the message is sent in (0 for an empty message). */
  parts: number;
  /** Units one part holds at this length: 160/70 for one part, 153/67 when concatenated. */
  perPart: number;
  /** Units still free in the last part before another part is needed. */
  remaining: number;
  /** Characters that count twice in GSM-7 (extension table), distinct, in order of appearance. */
  doubled: string[];
  /** Characters that forced UCS-2, distinct, in order of appearance (at most 5). */
  unicode: string[];
}

// The GSM 03.38 default alphabet (0x1B, the escape, is not a character of its own).
const BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
// Its extension table: each of these is sent as an escape and the character.
const EXTENSION = "\f^{}\\[~]|€";

const basic = new Set(BASIC);
const extension = new Set(EXTENSION);

export const GSM_SINGLE = 160;
export const GSM_MULTI = 153;
export const UCS2_SINGLE = 70;
export const UCS2_MULTI = 67;

/** Whether `ch` (one code point) can be sent in GSM-7, and in how many septets (0: it cannot). */
export function gsmSeptets(ch: string): 0 | 1 | 2 {
  if (basic.has(ch)) return 1;
  if (extension.has(ch)) return 2;
  return 0;
}

/** Parts needed for `sizes` (units per character) with `multi` units per part, never splitting a character. */
function partsFor(sizes: number[], multi: number): { parts: number; lastUsed: number } {
  let parts = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > multi) {
      parts += 1;
      used = 0;
    }
    used += size;
  }
  return { parts, lastUsed: used };
}

export function countSms(text: string): SmsCount {
  const chars = Array.from(text); // code points
  const doubled: string[] = [];
  const unicode: string[] = [];
  let gsm = true;
  for (const ch of chars) {
    const septets = gsmSeptets(ch);
    if (septets === 2 && !doubled.includes(ch)) doubled.push(ch);
    if (septets === 0) {
      gsm = false;
      if (unicode.length < 5 && !unicode.includes(ch)) unicode.push(ch);
    }
  }
  const encoding: SmsEncoding = gsm ? "GSM-7" : "UCS-2";
  if (!gsm) doubled.length = 0; // in UCS-2 every character is one unit (two for a surrogate pair)
  // UTF-16 code units per code point: 2 for a surrogate pair, else 1.
  const sizes = chars.map((ch) => (gsm ? gsmSeptets(ch) : ch.length));
  const units = sizes.reduce((a, b) => a + b, 0);
  const single = gsm ? GSM_SINGLE : UCS2_SINGLE;
  const multi = gsm ? GSM_MULTI : UCS2_MULTI;
  if (units === 0) {
    return { encoding, characters: 0, units: 0, parts: 0, perPart: single, remaining: single, doubled, unicode };
  }
  if (units <= single) {
    return { encoding, characters: chars.length, units, parts: 1, perPart: single, remaining: single - units, doubled, unicode };
  }
  const { parts, lastUsed } = partsFor(sizes, multi);
  return {
    encoding,
    characters: chars.length,
    units,
    parts,
    perPart: multi,
    remaining: multi - lastUsed,
    doubled,
    unicode,
  };
}
