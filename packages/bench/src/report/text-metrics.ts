/**
 * Text widths for headless vega. Without a canvas, vega guesses 0.8 em per character, twice the
 * width of real sans-serif text: every label, legend and title was laid out far too wide and the
 * SVGs had wide empty margins. Here the widths come from Helvetica's advance widths (Arial and
 * Liberation Sans have the same metrics), which is what the charts name as their font. Vega lets a
 * user-defined `textMetrics.width` replace its estimate (vega-scenegraph's widthGetter says so).
 * Thread: any.
 */
import * as vega from 'vega';

/** Helvetica advance widths (per 1000 em) for ' ' (32) to '~' (126). */
const REGULAR = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
  722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
  556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
  260, 334, 584,
];
/** Helvetica-Bold advance widths for ' ' (32) to '~' (126). */
const BOLD = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833,
  722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611,
  556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389,
  280, 389, 584,
];
/** Characters outside ASCII (µ, –, →): a digit's width. */
const OTHER = 556;

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  limit?: number;
}

/** The width in pixels of `text` in Helvetica/Arial at `fontSize`, bold or not. */
function textWidth(text: string, fontSize: number, bold = false): number {
  const table = bold ? BOLD : REGULAR;
  let units = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)! - 32;
    units += c >= 0 && c < table.length ? table[c]! : OTHER;
  }
  return (units * fontSize) / 1000;
}

function isBold(weight: number | string | undefined): boolean {
  return (
    weight === 'bold' ||
    weight === 'bolder' ||
    (typeof weight === 'number' && weight >= 600) ||
    (typeof weight === 'string' && Number(weight) >= 600)
  );
}

let installed = false;

/** What vega passes as a text mark's text: its `text` channel's value (a string, a number, lines). */
type MarkText = string | number | boolean | readonly (string | number)[] | null | undefined;

/** Makes headless vega measure text with {@link textWidth}. Idempotent. */
export function installTextMetrics(): void {
  if (installed) return;
  installed = true;
  // vega's types do not declare `textMetrics`; vega exports it (from vega-scenegraph).
  const metrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text: MarkText) => number } })
    .textMetrics;
  metrics.width = (item: TextItem, text: MarkText): number => {
    const s = text == null ? '' : String(text).trim();
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    return s.length === 0 || size <= 0 ? 0 : textWidth(s, size, isBold(item.fontWeight));
  };
}
