/**
 * Reader for the JSON printed by Cocoon's `SimpleJsonSerializer` (cocoon runners/helpers/
 * SimpleJsonSerializer.hpp @ b75d4447), the serializer behind every runner's `GET /jsonstats`.
 *
 * That serializer is not a JSON library, so `JSON.parse` is the wrong tool:
 * - strings are written raw between quotes, never escaped: a value may contain `"` or `\`;
 * - keys can repeat (root_contract_config prints `cached_tokens_price_multiplier` twice);
 * - doubles are printed `%.6f`, so NaN/inf would come out as `nan`/`inf`;
 * - int64 values (balances in nanoTON) can exceed 2^53.
 *
 * Layout it always produces (the reader relies on it only to find where a string ends): every
 * element starts on its own line — `print_comma()` writes `",\n"` or `"\n"` plus 2-space indentation
 * before each element, and `stop_object()/stop_array()` write `"\n"` + indentation before the
 * closing bracket. The document therefore starts with `"\n{"` and has no trailing newline.
 *
 * String-end rule (the only ambiguity of an unescaped format):
 * - a KEY ends at the first `"` (keys are constants of the serializer and contain no quote);
 * - a string VALUE ends at the first `"` that is followed by an optional `,` (spaces/tabs allowed
 *   around it) and then a line break or the end of input. Because the serializer puts every element
 *   on its own line, the real closing quote always satisfies this; a `"` inside the value only
 *   ends it early if it is itself followed by `,`-end-of-line or end-of-line, which a single-line
 *   value (model names, addresses, hashes, dates) cannot contain.
 * No escape sequence is interpreted: the characters between the quotes are the value, verbatim.
 *
 * Control characters (U+0000–U+001F, U+007F–U+009F) are refused in keys and string values: the
 * serializer's inputs (model names, git data, addresses, hashes) never hold one, PostgreSQL text
 * cannot hold NUL, and a terminal or log line must not receive one from a worker.
 */

/** A value read from the serializer's output. Integer literals are `bigint`, `%.6f` literals `number`. */
export type TdJsonValue = bigint | number | string | boolean | null | TdJsonValue[] | TdJsonObject;
export interface TdJsonObject {
  [key: string]: TdJsonValue;
}

/** A key printed more than once in the same object; `path` is e.g. `root_contract_config.cached_tokens_price_multiplier`. */
export interface TdJsonDuplicateKey {
  path: string;
  first: TdJsonValue;
  second: TdJsonValue;
}

export interface TdJsonDocument {
  /** The top-level value; for a duplicated key the object holds the LAST value printed. */
  value: TdJsonValue;
  /** Every repetition of a key, in document order (one entry per extra occurrence). */
  duplicateKeys: TdJsonDuplicateKey[];
}

/** Why the reader rejected the text. */
export type TdJsonErrorReason = 'syntax' | 'non-finite' | 'control-character';

/** Typed error of {@link readTdJson}: `reason`, the JSON `path` and the character `offset` where it failed. */
export class TdJsonError extends Error {
  constructor(
    readonly reason: TdJsonErrorReason,
    readonly path: string,
    readonly offset: number,
    message: string,
  ) {
    super(`${message} at ${path || '<root>'} (offset ${offset})`);
    this.name = 'TdJsonError';
  }
}

const MAX_DEPTH = 32;
const STRING_VALUE_END = /"[ \t]*,?[ \t]*(?:\r?\n|$)/y;
// groups: 1 a non-finite word, 2 a fraction, 3 an exponent
const NUMBER = /-?(?:(nan|inf(?:inity)?)|\d+(\.\d+)?([eE][+-]?\d+)?)/iy;
const LITERALS: [string, boolean | null][] = [['true', true], ['false', false], ['null', null]];
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Reads one document printed by Cocoon's SimpleJsonSerializer (see the module comment for the
 * format and the string-end rule). Leading/trailing whitespace is allowed (the real body starts
 * with "\n"); anything else after the top-level value is a syntax error.
 *
 * Numbers: a literal without `.`/exponent becomes a `bigint` (exact for int64 nanoTON), one with a
 * fraction becomes a `number`.
 *
 * @throws TdJsonError reason `syntax` (malformed text, unterminated string, nesting deeper than 32),
 *   `non-finite` (`nan`, `-nan`, `inf`, or a literal that overflows a double) or `control-character`
 *   (one in a key or a string value).
 */
export function readTdJson(text: string): TdJsonDocument {
  const reader = new Reader(text);
  reader.skipWhitespace();
  const value = reader.value(0);
  reader.skipWhitespace();
  if (reader.pos !== text.length) reader.fail('syntax', 'unexpected text after the top-level value');
  return { value, duplicateKeys: reader.duplicateKeys };
}

/**
 * The reader. The path of the value being read is kept as a stack of keys and array indexes and
 * only spelled out (`a.b[2]`) for an error or a duplicate key: building it for every value was
 * most of the reader's time.
 */
class Reader {
  pos = 0;
  readonly duplicateKeys: TdJsonDuplicateKey[] = [];
  /** keys (objects) and indexes (arrays) from the top-level value down to the one being read */
  private readonly segments: (string | number)[] = [];

  constructor(private readonly text: string) {}

  fail(reason: TdJsonErrorReason, message: string): never {
    throw new TdJsonError(reason, this.path(), this.pos, message);
  }

  /** The current path: `key.key[index]…`, '' at the top level. */
  private path(): string {
    let out = '';
    for (const s of this.segments) out = typeof s === 'number' ? `${out}[${s}]` : out ? `${out}.${s}` : s;
    return out;
  }

  skipWhitespace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.pos++;
    }
  }

  value(depth: number): TdJsonValue {
    if (depth > MAX_DEPTH) this.fail('syntax', `nesting deeper than ${MAX_DEPTH}`);
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b) return this.object(depth); // {
    if (c === 0x5b) return this.array(depth); // [
    if (c === 0x22) return this.stringValue(); // "
    if (c === 0x74 || c === 0x66 || c === 0x6e) {
      // t, f, n: true, false, null (or nan, refused as a number)
      for (const [word, value] of LITERALS) {
        if (this.text.startsWith(word, this.pos)) {
          this.pos += word.length;
          return value;
        }
      }
    }
    return this.number();
  }

  private object(depth: number): TdJsonObject {
    this.pos++; // {
    const obj: TdJsonObject = {};
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return obj;
    }
    for (;;) {
      this.skipWhitespace();
      const key = this.key();
      this.segments.push(key);
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail('syntax', 'expected ":" after key');
      this.pos++;
      this.skipWhitespace();
      const child = this.value(depth + 1);
      if (Object.hasOwn(obj, key)) this.duplicateKeys.push({ path: this.path(), first: obj[key]!, second: child });
      // a key named "__proto__" must not reach the prototype setter: defined, not assigned
      if (key === '__proto__') Object.defineProperty(obj, key, { value: child, enumerable: true, writable: true, configurable: true });
      else obj[key] = child;
      this.skipWhitespace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === '}') {
        this.segments.pop();
        return obj;
      }
      if (next !== ',') this.fail('syntax', 'expected "," or "}"');
      this.segments.pop();
    }
  }

  private array(depth: number): TdJsonValue[] {
    this.pos++; // [
    const items: TdJsonValue[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return items;
    }
    for (;;) {
      this.skipWhitespace();
      this.segments.push(items.length);
      items.push(this.value(depth + 1));
      this.skipWhitespace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === ']') {
        this.segments.pop();
        return items;
      }
      if (next !== ',') this.fail('syntax', 'expected "," or "]"');
      this.segments.pop();
    }
  }

  private key(): string {
    if (this.text[this.pos] !== '"') this.fail('syntax', 'expected a quoted key');
    const end = this.text.indexOf('"', this.pos + 1);
    if (end < 0) this.fail('syntax', 'unterminated key');
    const key = this.text.slice(this.pos + 1, end);
    this.checkControl(key, this.pos + 1);
    this.pos = end + 1;
    return key;
  }

  private stringValue(): string {
    const start = this.pos + 1;
    for (let q = this.text.indexOf('"', start); q >= 0; q = this.text.indexOf('"', q + 1)) {
      STRING_VALUE_END.lastIndex = q;
      if (STRING_VALUE_END.test(this.text)) {
        const value = this.text.slice(start, q);
        this.checkControl(value, start);
        this.pos = q + 1;
        return value;
      }
    }
    this.fail('syntax', 'unterminated string (no closing quote at the end of a line)');
  }

  private checkControl(text: string, start: number): void {
    const m = CONTROL.exec(text);
    if (!m) return;
    this.pos = start + m.index;
    const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    this.fail('control-character', `control character U+${code} in a string`);
  }

  private number(): bigint | number {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) this.fail('syntax', `unexpected character ${JSON.stringify(this.text[this.pos] ?? 'end of input')}`);
    const literal = m[0];
    if (continuesNumber(this.text.charCodeAt(this.pos + literal.length))) this.fail('syntax', `malformed number near ${JSON.stringify(literal)}`);
    if (m[1] !== undefined) this.fail('non-finite', `non-finite number ${JSON.stringify(literal)}`);
    this.pos += literal.length;
    if (m[2] !== undefined || m[3] !== undefined) {
      const n = Number(literal);
      if (!Number.isFinite(n)) this.fail('non-finite', `number ${literal} overflows a double`);
      return n;
    }
    return BigInt(literal);
  }
}

/** Whether the character after a number literal would make it malformed: a word character, `.`, `+` or `-` (NaN at the end). */
function continuesNumber(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2e || c === 0x2b || c === 0x2d;
}
