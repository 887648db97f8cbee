/**
 * Checks that a chart draws something a person can see: renders a vega SVG to pixels with resvg
 * (@resvg/resvg-js, a devDependency: this module is for tests and is not exported from the package
 * root; import it as `@ringbuf/bench/render-check`), finds the plot areas (the cells vega frames
 * with a background path) and counts the pixels that differ from the background inside each.
 * Grid lines, axes and text are grey or black; marks are drawn in colour, so `colored` counts the
 * marks alone. Thread: any (tests).
 */

/** A rectangle in SVG user units (CSS pixels at scale 1). */
export interface PlotArea {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What one plot area holds once rendered. */
export interface PlotInk {
  area: PlotArea;
  /** Pixels inside the area (its frame stroke left out), at the render scale. */
  pixels: number;
  /** Pixels that differ from the background (marks, grid lines, labels inside the area). */
  inked: number;
  /** Pixels in colour (max - min channel > 48): the marks, without the grey grid or black text. */
  colored: number;
}

/** A rendered chart. */
export interface RenderCheck {
  /** PNG size in pixels. */
  width: number;
  height: number;
  /** The PNG bytes (for a person to look at). */
  png: Uint8Array;
  /** One entry per plot area found in the SVG, in document order. */
  areas: PlotInk[];
}

export interface RenderCheckOptions {
  /** Pixels per SVG unit. @default 1 */
  scale?: number;
}

/** The y or x axis labels vega wrote, by axis (from each axis group's aria-label). */
export interface AxisLabels {
  /** 'X' or 'Y' (the first letter of the axis's aria-label), '' when it has none. */
  axis: string;
  /** The axis's aria-label, e.g. "Y-axis titled 'latency (µs)' for a log scale with values from 1 to 1,000". */
  description: string;
  /** The tick label texts, in order. */
  labels: string[];
}

const TAG = /<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>|([^<]+)/g;
const attr = (attrs: string, name: string): string | undefined => new RegExp(`\\s${name}="([^"]*)"`).exec(attrs)?.[1];

function translateOf(attrs: string): [number, number] {
  const m = /translate\(\s*(-?[\d.e+-]+)[ ,]+(-?[\d.e+-]+)\s*\)/.exec(attr(attrs, 'transform') ?? '');
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

interface Frame {
  dx: number;
  dy: number;
  /** The class of the nearest enclosing vega mark group ('mark-group role-scope ...'). */
  markGroup: string;
  ariaLabel: string;
  /** Inside an axis, a legend or a title (whose entries are groups too). */
  inGuide: boolean;
}

function walk(svg: string, visit: (tag: string, attrs: string, frame: Frame, text: string | null) => void): void {
  const stack: Frame[] = [{ dx: 0, dy: 0, markGroup: '', ariaLabel: '', inGuide: false }];
  for (const m of svg.matchAll(TAG)) {
    const top = stack[stack.length - 1]!;
    if (m[5] !== undefined) {
      visit('#text', '', top, m[5]);
      continue;
    }
    const [, close, tag = '', attrs = '', selfClose] = m;
    if (close) {
      if (tag === 'g' && stack.length > 1) stack.pop();
      continue;
    }
    visit(tag, attrs, top, null);
    if (tag === 'g' && !selfClose) {
      const [tx, ty] = translateOf(attrs);
      const cls = attr(attrs, 'class') ?? '';
      stack.push({
        dx: top.dx + tx,
        dy: top.dy + ty,
        markGroup: cls.startsWith('mark-group') ? cls : top.markGroup,
        ariaLabel: attr(attrs, 'aria-label') ?? (cls.startsWith('mark-group') ? '' : top.ariaLabel),
        inGuide: top.inGuide || /\brole-(axis|legend|title)\b/.test(cls),
      });
    }
  }
}

/**
 * The plot areas of a vega SVG: each view cell (the root frame of a single or layered view, each
 * cell of a concat or facet) with its background rectangle, in SVG units.
 */
export function plotAreas(svg: string): PlotArea[] {
  const areas: PlotArea[] = [];
  walk(svg, (tag, attrs, frame) => {
    if (tag !== 'path' || attr(attrs, 'class') !== 'background') return;
    if (frame.inGuide || !/role-(frame|scope)/.test(frame.markGroup)) return;
    const m = /^M(-?[\d.]+),(-?[\d.]+)h([\d.]+)v([\d.]+)h/.exec(attr(attrs, 'd') ?? '');
    if (!m) return;
    const width = Number(m[3]);
    const height = Number(m[4]);
    if (width <= 0 || height <= 0) return;
    const area = { x: frame.dx + Number(m[1]), y: frame.dy + Number(m[2]), width, height };
    // A line or area mark with a `detail` draws inside groups of its own, each with a background
    // the size of its cell (`..._pathgroup`): the same plot area, not another one.
    const same = (a: PlotArea): boolean =>
      Math.abs(a.x - area.x) <= 1 && Math.abs(a.y - area.y) <= 1 && a.width === area.width && a.height === area.height;
    if (!areas.some(same)) areas.push(area);
  });
  return areas;
}

/** The tick labels of every labelled axis in a vega SVG. */
export function axisLabels(svg: string): AxisLabels[] {
  const axes = new Map<string, AxisLabels>();
  let inLabel: AxisLabels | null = null;
  walk(svg, (tag, attrs, frame, text) => {
    if (tag === 'g') {
      inLabel = null;
      if (/role-axis-label/.test(attr(attrs, 'class') ?? '') && frame.ariaLabel) {
        const key = `${frame.ariaLabel}#${axes.size}`;
        const entry = {
          axis: /^([XY])-axis/.exec(frame.ariaLabel)?.[1] ?? '',
          description: frame.ariaLabel,
          labels: [],
        };
        axes.set(key, entry);
        inLabel = entry;
      }
      return;
    }
    if (tag === '#text' && inLabel && text !== null) inLabel.labels.push(decodeEntities(text));
  });
  return [...axes.values()];
}

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, '&');
}

interface ResvgModule {
  Resvg: new (
    svg: string,
    options?: object,
  ) => { render(): { width: number; height: number; pixels: Uint8Array; asPng(): Uint8Array } };
}

async function resvg(): Promise<ResvgModule> {
  try {
    const name = '@resvg/resvg-js';
    // The ES module or, through a CommonJS interop, its default export.
    const mod = (await import(name)) as Partial<ResvgModule> & { default?: ResvgModule };
    return mod.Resvg ? { Resvg: mod.Resvg } : mod.default!;
  } catch (err) {
    throw new Error(
      `render-check needs @resvg/resvg-js (a devDependency of @ringbuf/bench): ${(err as Error).message}`,
    );
  }
}

/**
 * Renders `svg` to PNG with resvg (white background, system fonts) and counts what each plot
 * area holds. A chart with no plot area gives `areas: []`.
 * @throws Error when @resvg/resvg-js is not installed or the SVG does not parse.
 */
export async function checkRender(svg: string, options: RenderCheckOptions = {}): Promise<RenderCheck> {
  const scale = options.scale ?? 1;
  const { Resvg } = await resvg();
  const image = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true },
  }).render();
  const { width, height, pixels } = image;
  const areas = plotAreas(svg).map((area): PlotInk => {
    // Two units in from the edge: the frame's own stroke is not a mark.
    const x0 = Math.max(0, Math.ceil((area.x + 2) * scale));
    const y0 = Math.max(0, Math.ceil((area.y + 2) * scale));
    const x1 = Math.min(width, Math.floor((area.x + area.width - 2) * scale));
    const y1 = Math.min(height, Math.floor((area.y + area.height - 2) * scale));
    let inked = 0;
    let colored = 0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = (y * width + x) * 4;
        const r = pixels[i]!;
        const g = pixels[i + 1]!;
        const b = pixels[i + 2]!;
        if (r < 250 || g < 250 || b < 250) inked++;
        if (Math.max(r, g, b) - Math.min(r, g, b) > 48) colored++;
      }
    }
    return { area, pixels: Math.max(0, x1 - x0) * Math.max(0, y1 - y0), inked, colored };
  });
  return { width, height, png: image.asPng(), areas };
}
