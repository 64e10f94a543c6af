/**
 * application/x-www-form-urlencoded and URL query decoding that refuses invalid
 * percent-escapes and invalid UTF-8 instead of silently replacing characters
 * (a replaced character would make signatures fail in confusing ways).
 */
export class MalformedQueryError extends Error {}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeComponent(s: string): string {
  const plus = s.replace(/\+/g, " ");
  if (!plus.includes("%")) return plus;
  const bytes: number[] = [];
  for (let i = 0; i < plus.length; i++) {
    const ch = plus.charCodeAt(i);
    if (ch === 0x25) {
      const hex = plus.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex))
        throw new MalformedQueryError(`Invalid percent-escape near '${plus.slice(i, i + 3)}'`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(plus[i]!, "utf8")) bytes.push(b);
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    throw new MalformedQueryError("The query string is not valid UTF-8");
  }
}

export function parseFormPairs(input: string | Uint8Array): Array<[string, string]> {
  let text: string;
  if (typeof input === "string") text = input;
  else {
    try {
      text = utf8.decode(input);
    } catch {
      throw new MalformedQueryError("The request body is not valid UTF-8");
    }
  }
  if (text === "") return [];
  const pairs: Array<[string, string]> = [];
  for (const part of text.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : decodeComponent(part.slice(eq + 1));
    pairs.push([name, value]);
  }
  return pairs;
}
