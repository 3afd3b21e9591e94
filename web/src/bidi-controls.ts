/**
 * Unicode's bidirectional controls: the marks (ALM, LRM, RLM), embeddings and overrides
 * (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI). One of them in text the page
 * shows from the address or from a server message (a symbol with U+202E in it) reorders the
 * text after it, so the banner would read backwards from there.
 */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** The text with each bidirectional control shown as its code point, e.g. [U+202E], which reorders nothing. */
export function withoutBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}
