/**
 * The source text of each element of a JSON array (or member of an object), as sent. HTTP
 * ingestion puts each record on its stream with the producer's own bytes, and a dry run reads
 * each record from them, so a number such as `0.10000000000000000001` reaches ingestion as
 * written, not as the nearest double that `JSON.parse` would make of it. Pure.
 */

const OPEN = new Set(['[', '{']);
const CLOSE = new Set([']', '}']);
const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/**
 * The trimmed text of each top-level element of `text`, which must be valid JSON (already
 * parsed by the caller); undefined when it is not an array. Strings are skipped with their
 * escapes, so brackets and commas inside them do not count. One pass, no recursion.
 */
export function jsonArrayElementTexts(text: string): string[] | undefined {
  return topLevelTexts(text, '[');
}

/**
 * The trimmed text of each member value of the JSON object `text` (already parsed by the
 * caller), by key; undefined when it is not an object. A repeated key keeps its last value, as
 * `JSON.parse` does.
 */
export function jsonObjectMemberTexts(text: string): Map<string, string> | undefined {
  const members = topLevelTexts(text, '{');
  if (members === undefined) return undefined;
  const byKey = new Map<string, string>();
  for (const member of members) {
    const keyEnd = stringEnd(member, 0);
    const afterKey = member.slice(keyEnd).trimStart();
    // `"key" : value`: the colon, then the value.
    byKey.set(JSON.parse(member.slice(0, keyEnd)) as string, afterKey.slice(1).trim());
  }
  return byKey;
}

/** The index just after the string literal that opens at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
  }
  return text.length;
}

/** The texts between the top-level commas of the array or object that `text` is. */
function topLevelTexts(text: string, opener: '[' | '{'): string[] | undefined {
  let start = 0;
  while (start < text.length && WHITESPACE.has(text.charAt(start))) start++;
  if (text.charAt(start) !== opener) return undefined;
  const elements: string[] = [];
  let depth = 0;
  let elementStart = start + 1;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charAt(i);
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (OPEN.has(c)) depth++;
    else if (CLOSE.has(c)) {
      depth--;
      if (depth === 0) {
        pushElement(elements, text.slice(elementStart, i));
        return elements;
      }
    } else if (c === ',' && depth === 1) {
      pushElement(elements, text.slice(elementStart, i));
      elementStart = i + 1;
    }
  }
  return undefined;
}

function pushElement(elements: string[], raw: string): void {
  const trimmed = raw.trim();
  // `[]` and `{}` have no element; in valid JSON only they give an empty slice.
  if (trimmed.length > 0) elements.push(trimmed);
}
