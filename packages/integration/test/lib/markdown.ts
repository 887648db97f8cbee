/**
 * Relative links and images in Markdown, and whether they resolve: the file (or folder) exists and,
 * for `#anchor` into a Markdown file, a heading with that GitHub slug exists there.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** One link found in a Markdown file. */
export interface MarkdownLink {
  /** 1-based line of the link. */
  line: number;
  /** The target as written. */
  target: string;
  /** Whether it is an image (`![..](..)` or `<img src>`). */
  image: boolean;
}

/** A link that does not resolve. */
export interface BrokenLink extends MarkdownLink {
  file: string;
  problem: string;
}

/** Replaces fenced code blocks and inline code spans by blanks, keeping line numbers. */
function stripCode(text: string): string {
  const lines = text.split('\n');
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== undefined) {
      if (m && m[1]!.startsWith(fence)) fence = undefined;
      lines[i] = '';
    } else if (m) {
      fence = m[1]!;
      lines[i] = '';
    } else {
      lines[i] = line.replace(/(`+)[^`]*?\1/g, (s) => ' '.repeat(s.length));
    }
  }
  return lines.join('\n');
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML tags
    .replace(/[`*~]/g, '') // code and emphasis marks (underscores stay, as GitHub keeps them)
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M} _-]/gu, '').replace(/ /g, '-');
}

/** The anchors a Markdown file defines: heading slugs (with GitHub's -1, -2 suffixes) and `<a id|name>`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const f = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== undefined) {
      if (f && f[1]!.startsWith(fence)) fence = undefined;
      continue;
    }
    if (f) {
      fence = f[1]!;
      continue;
    }
    const h = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = githubSlug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const a of line.matchAll(/<a\s+(?:[^>]*\s)?(?:id|name)="([^"]+)"/g)) anchors.add(a[1]!);
  }
  return anchors;
}

/** Every link and image of a Markdown text, outside code. */
export function linksOf(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  const lines = stripCode(markdown).split('\n');
  lines.forEach((line, i) => {
    // Inline links and images; the target may be <wrapped> and may carry a "title".
    for (const m of line.matchAll(/(!?)\[(?:[^\][]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ line: i + 1, target: m[2]!.replace(/^<|>$/g, ''), image: m[1] === '!' });
    }
    // Reference definitions: [id]: target
    const def = /^\s{0,3}\[[^\]]+\]:\s+(<[^>]*>|\S+)/.exec(line);
    if (def) links.push({ line: i + 1, target: def[1]!.replace(/^<|>$/g, ''), image: false });
    for (const m of line.matchAll(/<(img|a)\s[^>]*?(src|href)="([^"]+)"/g)) {
      links.push({ line: i + 1, target: m[3]!, image: m[1] === 'img' });
    }
  });
  return links;
}

/** Whether a target leaves the repository (a URL with a scheme, or a protocol-relative one). */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

/**
 * The broken relative links of one Markdown file. `root` is the repository root (a target starting
 * with `/` is taken from there, as GitHub does).
 */
export function brokenLinks(root: string, file: string): BrokenLink[] {
  const text = readFileSync(file, 'utf8');
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsIn = (path: string): Set<string> => {
    let set = anchorCache.get(path);
    if (!set) {
      set = anchorsOf(readFileSync(path, 'utf8'));
      anchorCache.set(path, set);
    }
    return set;
  };
  for (const link of linksOf(text)) {
    if (isExternal(link.target)) continue;
    const hashAt = link.target.indexOf('#');
    const pathPart = hashAt < 0 ? link.target : link.target.slice(0, hashAt);
    const anchor = hashAt < 0 ? undefined : decodeURIComponent(link.target.slice(hashAt + 1));
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathPart.split('?')[0]!);
    } catch {
      broken.push({ ...link, file, problem: 'malformed percent-encoding' });
      continue;
    }
    const targetPath =
      decoded === '' ? file : decoded.startsWith('/') ? join(root, decoded) : resolve(dirname(file), decoded);
    if (!existsSync(targetPath)) {
      broken.push({ ...link, file, problem: `no such file: ${relative(root, targetPath)}` });
      continue;
    }
    if (anchor !== undefined && anchor !== '' && statSync(targetPath).isFile() && targetPath.endsWith('.md')) {
      if (!anchorsIn(targetPath).has(anchor)) {
        broken.push({ ...link, file, problem: `no heading #${anchor} in ${relative(root, targetPath)}` });
      }
    }
  }
  return broken;
}
