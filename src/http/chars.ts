// Byte classes of RFC 9110/9112 as lookup tables, so the parser's inner loops are one load per byte.

function table(accepts: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accepts(b) ? 1 : 0;
  return t;
}

const TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

/** tchar: the bytes of a method or a header name. */
export const TOKEN = table(
  (b) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || TOKEN_SYMBOLS.includes(String.fromCharCode(b)),
);

/** field-vchar / SP / HTAB / obs-text: what a header value may hold. CR, LF, NUL and other controls may not. */
export const FIELD_VALUE = table((b) => b === 0x09 || (b >= 0x20 && b !== 0x7f));

/** Bytes of a request target: visible ASCII only (RFC 3986; raw UTF-8 must be percent-encoded). */
export const TARGET = table((b) => b > 0x20 && b < 0x7f);

/** Hex digit values, -1 for anything else. */
export const HEX_VALUE = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let d = 0; d < 10; d++) t[0x30 + d] = d;
  for (let d = 0; d < 6; d++) {
    t[0x41 + d] = 10 + d;
    t[0x61 + d] = 10 + d;
  }
  return t;
})();

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;
export const SEMICOLON = 59;
export const COMMA = 44;
export const EQUALS = 61;
export const DQUOTE = 34;
export const BACKSLASH = 92;
