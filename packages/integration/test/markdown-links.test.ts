import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { anchorsOf, brokenLinks, githubSlug, linksOf } from './lib/markdown.js';
import { ROOT, markdownFiles } from './lib/repo.js';

test('every relative link and image in every Markdown file of the repository resolves', (t) => {
  const files = markdownFiles().filter((f) => existsSync(f));
  t.true(files.length >= 5, `found only ${files.length} Markdown files under ${ROOT}`);
  t.true(
    files.some((f) => relative(ROOT, f) === 'README.md'),
    'the root README is among them',
  );
  const broken = files.flatMap((f) => brokenLinks(ROOT, f));
  const lines = broken.map(
    (b) => `${relative(ROOT, b.file)}:${b.line}: ${b.image ? 'image' : 'link'} ${b.target}: ${b.problem}`,
  );
  t.deepEqual(lines, [], `broken links:\n${lines.join('\n')}`);
});

test('heading slugs follow GitHub: lower case, punctuation dropped, code marks dropped, repeats numbered', (t) => {
  const cases: Array<[string, string]> = [
    ['Quick start', 'quick-start'],
    ['`ringbuf load`', 'ringbuf-load'],
    ['9. The consumer worker runtime', '9-the-consumer-worker-runtime'],
    ['3.1 Records are contiguous: the mirror tail', '31-records-are-contiguous-the-mirror-tail'],
    ['Overwrite mode (beyond libbpf)', 'overwrite-mode-beyond-libbpf'],
    ['Stopping, logging', 'stopping-logging'],
    ['A [link](x.md) in a heading', 'a-link-in-a-heading'],
  ];
  for (const [heading, slug] of cases) t.is(githubSlug(heading), slug, heading);
  const anchors = anchorsOf('# A\n## A\n```\n# not a heading\n```\n## A\n<a id="custom"></a>\n');
  t.deepEqual([...anchors].sort(), ['a', 'a-1', 'a-2', 'custom']);
});

test('links are found inline, as images, as references and as HTML, but not inside code', (t) => {
  const md = [
    'see [the design](docs/DESIGN.md#3-layout) and ![a chart](bench/a.svg "title")',
    '`[not a link](nope.md)` and [x](<with space.md>)',
    '```',
    '[in a fence](fence.md)',
    '```',
    '[ref]: ./ref.md',
    '<img src="pic.png" alt="">',
  ].join('\n');
  t.deepEqual(
    linksOf(md).map((l) => [l.line, l.target, l.image]),
    [
      [1, 'docs/DESIGN.md#3-layout', false],
      [1, 'bench/a.svg', true],
      [2, 'with space.md', false],
      [6, './ref.md', false],
      [7, 'pic.png', true],
    ],
  );
});

test('the checker reports a missing file, a missing image, a missing anchor, and accepts the rest', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ringbuf-md-'));
  try {
    mkdirSync(join(dir, 'docs'));
    writeFileSync(join(dir, 'docs', 'B.md'), '# Title\n\n## Part two\n');
    writeFileSync(join(dir, 'docs', 'pic.svg'), '<svg/>');
    writeFileSync(
      join(dir, 'A.md'),
      [
        '[ok](docs/B.md#part-two) [ok2](/docs/B.md) [self](#a) ![ok](docs/pic.svg) [web](https://example.com/x.md)',
        '# A',
        '[gone](docs/C.md) ![gone](pic.svg) [bad anchor](docs/B.md#part-three)',
      ].join('\n'),
    );
    const broken = brokenLinks(dir, join(dir, 'A.md')).map((b) => `${b.line} ${b.target}: ${b.problem}`);
    t.deepEqual(broken, [
      '3 docs/C.md: no such file: docs/C.md',
      '3 pic.svg: no such file: pic.svg',
      '3 docs/B.md#part-three: no heading #part-three in docs/B.md',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
