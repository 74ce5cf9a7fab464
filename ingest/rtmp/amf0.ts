// AMF0, the value encoding of RTMP commands: a bounded decoder for what publishers send and an
// encoder for our replies. Every length is checked against the bytes present before it is
// used, nesting and entry counts are capped, and anything we do not need (AMF3 switch,
// references, XML, typed objects) is refused with an error, never guessed at.

export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Value[] | Amf0Object;
export interface Amf0Object { [key: string]: Amf0Value }

export class Amf0Error extends Error {
  constructor(message: string) {
    // Thrown per bad command and caught by the session: no stack trace to capture.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'Amf0Error';
  }
}

const NUMBER = 0x00;
const BOOLEAN = 0x01;
const STRING = 0x02;
const OBJECT = 0x03;
const NULL = 0x05;
const UNDEFINED = 0x06;
const ECMA_ARRAY = 0x08;
const OBJECT_END = 0x09;
const STRICT_ARRAY = 0x0a;
const DATE = 0x0b;
const LONG_STRING = 0x0c;

/** Deep enough for onMetaData and connect's object; a deeper value is hostile. */
const MAX_DEPTH = 8;
/** Entries over a whole message: a command has a dozen, metadata a few dozen. */
const MAX_ENTRIES = 1024;

/** Decodes every value in `buf` (a whole command or data message). Throws Amf0Error. */
export function decodeAmf0(buf: Buffer): Amf0Value[] {
  const r = new Reader(buf);
  const out: Amf0Value[] = [];
  while (r.pos < buf.length) out.push(r.value(0));
  return out;
}

class Reader {
  pos = 0;
  #entries = 0;
  constructor(readonly buf: Buffer) {}

  #need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Amf0Error(`truncated value at byte ${this.pos} (needs ${n}, has ${this.buf.length - this.pos})`);
  }

  #count(): void {
    if (++this.#entries > MAX_ENTRIES) throw new Amf0Error(`more than ${MAX_ENTRIES} entries`);
  }

  #str(lenBytes: 2 | 4): string {
    this.#need(lenBytes);
    const len = lenBytes === 2 ? this.buf.readUInt16BE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += lenBytes;
    this.#need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** Key/value pairs up to the empty key + OBJECT_END marker. */
  #props(depth: number): Amf0Object {
    // A null prototype: keys such as __proto__ from the wire stay plain data.
    const o = Object.create(null) as Amf0Object;
    for (;;) {
      const key = this.#str(2);
      if (key === '') {
        this.#need(1);
        if (this.buf[this.pos++] !== OBJECT_END) throw new Amf0Error(`empty key without object end at byte ${this.pos - 1}`);
        return o;
      }
      this.#count();
      o[key] = this.value(depth + 1);
    }
  }

  value(depth: number): Amf0Value {
    if (depth > MAX_DEPTH) throw new Amf0Error(`nested deeper than ${MAX_DEPTH}`);
    this.#need(1);
    const marker = this.buf[this.pos++];
    switch (marker) {
      case NUMBER:
        this.#need(8);
        this.pos += 8;
        return this.buf.readDoubleBE(this.pos - 8);
      case BOOLEAN:
        this.#need(1);
        return this.buf[this.pos++] !== 0;
      case STRING:
        return this.#str(2);
      case LONG_STRING:
        return this.#str(4);
      case OBJECT:
        return this.#props(depth);
      case NULL:
        return null;
      case UNDEFINED:
        return undefined;
      case ECMA_ARRAY:
        // The count is a hint that encoders get wrong; the end marker is what counts.
        this.#need(4);
        this.pos += 4;
        return this.#props(depth);
      case STRICT_ARRAY: {
        this.#need(4);
        const n = this.buf.readUInt32BE(this.pos);
        this.pos += 4;
        // Each element takes at least one byte: a count past the bytes left is a lie.
        if (n > this.buf.length - this.pos) throw new Amf0Error(`strict array of ${n} in ${this.buf.length - this.pos} bytes`);
        const a: Amf0Value[] = [];
        for (let i = 0; i < n; i++) {
          this.#count();
          a.push(this.value(depth + 1));
        }
        return a;
      }
      case DATE: {
        this.#need(10);
        const ms = this.buf.readDoubleBE(this.pos);
        this.pos += 10; // + 2 bytes of time zone, reserved
        return new Date(ms);
      }
      default:
        throw new Amf0Error(`unsupported AMF0 marker 0x${(marker ?? 0).toString(16)} at byte ${this.pos - 1}`);
    }
  }
}

/** Encodes values for our replies (numbers, booleans, strings, null, plain objects). */
export function encodeAmf0(values: Amf0Value[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) write(v, parts);
  return Buffer.concat(parts);
}

function write(v: Amf0Value, out: Buffer[]): void {
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = NUMBER;
    b.writeDoubleBE(v, 1);
    out.push(b);
  } else if (typeof v === 'boolean') {
    out.push(Buffer.from([BOOLEAN, v ? 1 : 0]));
  } else if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    if (s.length > 0xffff) {
      const h = Buffer.alloc(5);
      h[0] = LONG_STRING;
      h.writeUInt32BE(s.length, 1);
      out.push(h, s);
    } else {
      const h = Buffer.alloc(3);
      h[0] = STRING;
      h.writeUInt16BE(s.length, 1);
      out.push(h, s);
    }
  } else if (v === null) {
    out.push(Buffer.from([NULL]));
  } else if (v === undefined) {
    out.push(Buffer.from([UNDEFINED]));
  } else if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = DATE;
    b.writeDoubleBE(v.getTime(), 1);
    out.push(b);
  } else if (Array.isArray(v)) {
    const h = Buffer.alloc(5);
    h[0] = STRICT_ARRAY;
    h.writeUInt32BE(v.length, 1);
    out.push(h);
    for (const e of v) write(e, out);
  } else {
    out.push(Buffer.from([OBJECT]));
    for (const [k, e] of Object.entries(v)) {
      const key = Buffer.from(k, 'utf8');
      const h = Buffer.alloc(2);
      h.writeUInt16BE(key.length, 0);
      out.push(h, key);
      write(e, out);
    }
    out.push(Buffer.from([0, 0, OBJECT_END]));
  }
}
