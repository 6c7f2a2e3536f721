/**
 * The README and the reference pages in docs/ as a reader meets them: every code block is
 * closed where it ends (a closing fence with text after it opens a new block instead, which
 * turns the rest of the page into code), and every relative link reaches a file and, with
 * `#anchor`, a heading of it (GitHub's heading ids).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const pages = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, 'docs', name)),
];

interface Page {
  /** Lines outside code blocks. */
  prose: { line: number; text: string }[];
  /** Fences that are not a bare ``` or ```lang. */
  badFences: string[];
  /** A code block still open at the end of the page. */
  unclosed: boolean;
}

function read(path: string): Page {
  const prose: Page['prose'] = [];
  const badFences: string[] = [];
  let open = false;
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (text.startsWith('```')) {
        // Opening: ``` or ```lang. Closing: ``` alone.
        if (open ? text.trim() !== '```' : !/^```[\w-]*\s*$/.test(text)) {
          badFences.push(`line ${i + 1}: ${text.slice(0, 60)}`);
        }
        open = !open;
      } else if (!open) {
        prose.push({ line: i + 1, text });
      }
    });
  return { prose, badFences, unclosed: open };
}

/** GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens, -1 on repeats. */
function headingIds(page: Page): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of page.prose) {
    const heading = /^#{1,6}\s+(.*)$/.exec(text);
    if (!heading) continue;
    const base = (heading[1] ?? '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    ids.add(count === 0 ? base : `${base}-${count}`);
  }
  return ids;
}

/** The relative links of a page's prose (inline code left out), with their lines. */
function relativeLinks(page: Page): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  for (const { line, text } of page.prose) {
    const withoutCode = text.replace(/`[^`]*`/g, '');
    for (const match of withoutCode.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1] ?? '';
      if (/^[a-z]+:/i.test(target)) continue;
      links.push({ line, target });
    }
  }
  return links;
}

describe('the README and docs/', () => {
  for (const path of pages) {
    const name = relative(root, path);
    it(`${name}: every code block is closed by a bare fence`, () => {
      const page = read(path);
      expect(page.badFences).toEqual([]);
      expect(page.unclosed).toBe(false);
    });

    it(`${name}: every relative link reaches a file and its heading`, () => {
      const page = read(path);
      const broken: string[] = [];
      for (const { line, target } of relativeLinks(page)) {
        const [file = '', anchor] = target.split('#');
        const linked = file === '' ? path : resolve(dirname(path), file);
        if (!existsSync(linked)) {
          broken.push(`line ${line}: ${target} (no such file)`);
          continue;
        }
        if (anchor === undefined || !linked.endsWith('.md')) continue;
        if (!headingIds(read(linked)).has(anchor)) {
          broken.push(`line ${line}: ${target} (no such heading)`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});
