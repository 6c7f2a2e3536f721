/** How the console shows values and record bytes exactly as they were sent. */

/**
 * A value as the API sent it: a JSON number that round-trips, or an exact decimal string.
 * Shown verbatim; never parsed to a float for display.
 */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number' || typeof value === 'string') return String(value);
  return JSON.stringify(value);
}

/** The record bytes of a data correction: pretty JSON, the text, or hex when not UTF-8. */
export function decodeRecord(base64: string): { kind: 'json' | 'text' | 'hex'; text: string } {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  } catch {
    return { kind: 'text', text: base64 };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0'));
    const lines: string[] = [];
    for (let i = 0; i < hex.length; i += 16) lines.push(hex.slice(i, i + 16).join(' '));
    return { kind: 'hex', text: lines.join('\n') };
  }
  try {
    JSON.parse(text);
  } catch {
    return { kind: 'text', text };
  }
  return { kind: 'json', text: prettyJson(text) };
}

/**
 * Re-indents valid JSON text without parsing its numbers, so `0.10000000000000000001` or a
 * 30-digit integer shows exactly as the producer wrote it.
 */
export function prettyJson(text: string): string {
  let out = '';
  let depth = 0;
  let inString = false;
  const newline = () => `\n${'  '.repeat(depth)}`;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (inString) {
      out += char;
      if (char === '\\') out += text[++i] ?? '';
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']';
      const rest = text.slice(i + 1).trimStart();
      if (rest.startsWith(close)) {
        out += char + close;
        i = text.indexOf(close, i + 1);
      } else {
        depth++;
        out += char + newline();
      }
    } else if (char === '}' || char === ']') {
      depth--;
      out += newline() + char;
    } else if (char === ',') out += `,${newline()}`;
    else if (char === ':') out += ': ';
    else if (!/\s/.test(char)) out += char;
  }
  return out;
}
