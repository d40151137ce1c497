// The search scan's inner loop: int8 rows dotted with an int8 query, in WebAssembly
// SIMD (i16x8 widening + i32x4.dot_i16x8_s, 16 values a step), because a JavaScript
// loop over 100,000 x 896 values is ~60 ms where this runs near memory speed.
// The module is written out byte by byte here (no toolchain); its text form:
//   (func (export "scan") (param $data i32) (param $query i32) (param $out i32) (param $rows i32) (param $width i32)
//     (local $j i32) (local $acc v128) (local $a v128) (local $b v128)
//     block loop                                ;; each row: out[r] = sum_j data[r, j] * query[j]
//       rows == 0 -> exit; acc = 0; j = 0
//       block loop  j >= width -> exit
//         a = data[j..j+16]; b = query[j..j+16]
//         acc += dot(low8(a), low8(b)) + dot(high8(a), high8(b)); j += 16
//       end end
//       *out = acc[0] + acc[1] + acc[2] + acc[3]; out += 4; data += width; rows -= 1
//     end end)
// `width` is the row stride in bytes, a multiple of 16 (rows are zero-padded to it).

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const name = (s: string) => [...leb(s.length), ...Buffer.from(s, 'latin1')];

const GET = 0x20; const SET = 0x21; const SIMD = 0xfd;
const [DATA, QUERY, OUT, ROWS, WIDTH, J, ACC, A, B] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const load = (ptr: number) => [GET, ptr, GET, J, 0x6a, SIMD, 0x00, 0x00, 0x00]; // v128.load align=1 offset=0
const widen = (local: number, op: number) => [GET, local, SIMD, op, 0x01]; // i16x8.extend_{low,high}_i8x16_s
const dotAdd = (op: number) => [...widen(A, op), ...widen(B, op), SIMD, 0xba, 0x01, SIMD, 0xae, 0x01]; // i32x4.dot_i16x8_s, i32x4.add
const lane = (i: number) => [GET, ACC, SIMD, 0x1b, i]; // i32x4.extract_lane
const bump = (local: number, by: number[]) => [GET, local, ...by, 0x6a, SET, local];

const body = [
  0x02, 0x40, 0x03, 0x40, // block loop
  GET, ROWS, 0x45, 0x0d, 0x01, // rows == 0 -> br_if 1
  SIMD, 0x0c, ...new Array(16).fill(0), SET, ACC, // acc = 0
  0x41, 0x00, SET, J, // j = 0
  0x02, 0x40, 0x03, 0x40,
  GET, J, GET, WIDTH, 0x4f, 0x0d, 0x01, // j >= width -> br_if 1
  ...load(DATA), SET, A, ...load(QUERY), SET, B,
  GET, ACC, ...dotAdd(0x87), ...dotAdd(0x88), SET, ACC,
  ...bump(J, [0x41, 0x10]),
  0x0c, 0x00, 0x0b, 0x0b, // br 0; end; end
  GET, OUT, ...lane(0), ...lane(1), 0x6a, ...lane(2), 0x6a, ...lane(3), 0x6a, 0x36, 0x02, 0x00, // i32.store
  ...bump(OUT, [0x41, 0x04]), ...bump(DATA, [GET, WIDTH]),
  GET, ROWS, 0x41, 0x01, 0x6b, SET, ROWS,
  0x0c, 0x00, 0x0b, 0x0b, // br 0; end; end
  0x0b,
];
const locals = [0x02, 0x01, 0x7f, 0x03, 0x7b]; // 1 x i32, 3 x v128
const code = [...leb(locals.length + body.length), ...locals, ...body];
const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]),
  ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
  ...section(3, [0x01, 0x00]),
  ...section(7, [0x01, ...name('scan'), 0x00, 0x00]),
  ...section(10, [0x01, ...code]),
]);

const compiled = new WebAssembly.Module(MODULE);
const PAGE = 65536;

/** One int8 scan over rows held in its own WebAssembly memory: [query | scores | rows]. */
export class Int8Scan {
  private readonly memory = new WebAssembly.Memory({ initial: 1 });
  private readonly scan: (data: number, query: number, out: number, rows: number, width: number) => void;

  constructor() {
    const instance = new WebAssembly.Instance(compiled, { env: { memory: this.memory } });
    this.scan = instance.exports.scan as Int8Scan['scan'];
  }

  /** Makes room for `bytes` and returns the memory (a grown memory replaces the old buffer). */
  reserve(bytes: number): ArrayBuffer {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    return this.memory.buffer;
  }

  /** out[r] = rows[r] . query (int32) for `count` rows of `width` bytes at byte offsets given. */
  run(dataAt: number, queryAt: number, outAt: number, count: number, width: number): void {
    if (width % 16 !== 0) throw new Error(`scan width ${width} is not a multiple of 16`);
    this.scan(dataAt, queryAt, outAt, count, width);
  }
}
