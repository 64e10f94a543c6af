/**
 * `*` / `?` wildcard matching (EC2 filter values) in time linear in the value:
 * the pattern becomes a bit-parallel automaton (Shift-And with self-loops for `*`),
 * so each character of the value costs one pass over ⌈tokens/32⌉ words, whatever
 * the pattern. No regular expression is ever built from user input: `*a*a*a*ab`
 * against 255 `a` costs 255 steps, not 255⁵.
 * `*` matches any run of characters (also none), `?` exactly one; characters are
 * Unicode code points; there is no escape, as in EC2.
 */
export interface Wildcard {
  matches(value: string): boolean;
}

const ANY = -1;

export function compileWildcard(pattern: string): Wildcard {
  // Tokens are the pattern's non-star characters; selfLoop[j]: a star follows token j.
  const tokens: number[] = [];
  const selfLoop: boolean[] = [];
  let leadingStar = false;
  for (const ch of pattern) {
    if (ch === "*") {
      if (tokens.length === 0) leadingStar = true;
      else selfLoop[tokens.length - 1] = true;
    } else tokens.push(ch === "?" ? ANY : ch.codePointAt(0)!);
  }
  const m = tokens.length;
  if (m === 0) return { matches: (v) => leadingStar || v === "" };
  const words = (m + 31) >>> 5;
  const mask = (bits: (j: number) => boolean) => {
    const out = new Uint32Array(words);
    for (let j = 0; j < m; j++) if (bits(j)) out[j >>> 5]! |= 1 << (j & 31);
    return out;
  };
  const anyMask = mask((j) => tokens[j] === ANY);
  const loops = mask((j) => selfLoop[j] === true);
  const byChar = new Map<number, Uint32Array>();
  for (const t of new Set(tokens))
    if (t !== ANY)
      byChar.set(
        t,
        mask((j) => tokens[j] === t || tokens[j] === ANY),
      );
  const lastWord = (m - 1) >>> 5;
  const lastBit = 1 << ((m - 1) & 31);

  return {
    matches(value: string): boolean {
      let d = new Uint32Array(words);
      let next = new Uint32Array(words);
      let first = true;
      for (const ch of value) {
        const b = byChar.get(ch.codePointAt(0)!) ?? anyMask;
        // next = ((d << 1) | start) & b | (d & loops): advance one token, or stay on a token a star follows.
        let carry = first || leadingStar ? 1 : 0;
        let alive = leadingStar;
        for (let w = 0; w < words; w++) {
          const dw = d[w]!;
          const v = ((((dw << 1) | carry) & b[w]!) | (dw & loops[w]!)) >>> 0;
          carry = dw >>> 31;
          next[w] = v;
          if (v !== 0) alive = true;
        }
        if (!alive) return false;
        [d, next] = [next, d];
        first = false;
      }
      return (d[lastWord]! & lastBit) !== 0;
    },
  };
}
