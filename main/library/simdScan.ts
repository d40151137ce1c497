// The search scans' inner loops in WebAssembly SIMD, because a JavaScript loop over
// 100,000 x 896 values is ~60 ms where these run near memory speed. The module is
// written out byte by byte here (no toolchain). Three functions over one memory:
//   scan(data, query, out, rows, width):       out[r] = rows[r] . query, int8 rows one after another
//                                              (i16x8 widening + i32x4.dot_i16x8_s, 16 values a step)
//   scanRows(data, query, out, rows, width, list): the same for the rows numbered in list[0..rows)
//                                              (the exact re-rank of a pre-filter's candidates)
//   signScan(data, query, out, blocks, width): out[p] = sum_j u_j * bit_j(photo p) for blocks of 16 photos'
//                                              sign codes, `width` bytes a code, stored transposed (byte t of the
//                                              16 photos together); for each byte t the query holds two 16-entry
//                                              tables (the sums of u over the 4 dimensions of its low / high nibble),
//                                              looked up by i8x16.swizzle for 16 photos at once (as FAISS's
//                                              "fast scan" does), summed in u16 lanes, written as 16 int32.
// The int8 scans' `width` is the row stride in bytes, a multiple of 16 (rows are zero-padded to it).

import { ScanFn, ScanHelper } from './scanHelper.ts';

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

const I32 = 0x7f; const V128 = 0x7b;
const GET = 0x20; const SET = 0x21; const SIMD = 0xfd;
const ADD = 0x6a; const MUL = 0x6c;
/** i32.const for 0 <= n < 64 (one signed LEB byte). */
const i32 = (n: number) => [0x41, n];
const blockLoop = [0x02, 0x40, 0x03, 0x40];
const endLoop = [0x0c, 0x00, 0x0b, 0x0b]; // br 0; end; end
const v128Load = (offset = 0) => [SIMD, 0x00, 0x00, ...leb(offset)];
const zero = [SIMD, 0x0c, ...new Array(16).fill(0)];
const bump = (local: number, by: number[]) => [GET, local, ...by, ADD, SET, local];
/** Sums the four i32 lanes of a v128 on the stack's top local `acc` and stores it at *out, out += 4. */
const storeSum = (out: number, acc: number) => [GET, out, ...[0, 1, 2, 3].flatMap((i) => [GET, acc, SIMD, 0x1b, i, ...(i > 0 ? [ADD] : [])]),
  0x36, 0x02, 0x00, ...bump(out, i32(4))];

/** out[r] = row . query over `width` bytes from the row at local `row`; locals j, acc, a, b. */
function int8Dot(row: number, query: number, out: number, width: number, [j, acc, a, b]: number[]): number[] {
  const widen = (local: number, op: number) => [GET, local, SIMD, op, 0x01]; // i16x8.extend_{low,high}_i8x16_s
  const dotAdd = (op: number) => [...widen(a as number, op), ...widen(b as number, op), SIMD, 0xba, 0x01, SIMD, 0xae, 0x01]; // i32x4.dot_i16x8_s, i32x4.add
  return [
    ...zero, SET, acc as number, ...i32(0), SET, j as number,
    ...blockLoop,
    GET, j as number, GET, width, 0x4f, 0x0d, 0x01, // j >= width -> exit
    GET, row, GET, j as number, ADD, ...v128Load(), SET, a as number, GET, query, GET, j as number, ADD, ...v128Load(), SET, b as number,
    GET, acc as number, ...dotAdd(0x87), ...dotAdd(0x88), SET, acc as number,
    ...bump(j as number, i32(16)),
    ...endLoop,
    ...storeSum(out, acc as number),
  ];
}

/** Loops over `rows` rows: `perRow` is the row's body; rows -= 1 after each. */
const eachRow = (rows: number, perRow: number[]) => [...blockLoop, GET, rows, 0x45, 0x0d, 0x01, ...perRow, GET, rows, ...i32(1), 0x6b, SET, rows, ...endLoop];

const [DATA, QUERY, OUT, ROWS, WIDTH, LIST] = [0, 1, 2, 3, 4, 5];
const scan = eachRow(ROWS, [...int8Dot(DATA, QUERY, OUT, WIDTH, [5, 6, 7, 8]), ...bump(DATA, [GET, WIDTH])]);
// locals after the 6 params: 6 = j, 7 = row, 8 acc, 9 a, 10 b
const scanRows = eachRow(ROWS, [
  GET, DATA, GET, LIST, 0x28, 0x02, 0x00, GET, WIDTH, MUL, ADD, SET, 7, // row = data + list[0] * width
  ...int8Dot(7, QUERY, OUT, WIDTH, [6, 8, 9, 10]), ...bump(LIST, i32(4)),
]);
// locals after the 5 params: 5 = j, 6 = table pointer, 7 / 8 acc (i16x8: lanes 0-7 / 8-15), 9 x, 10 s
const [J, QP, LOW, HIGH, X, S] = [5, 6, 7, 8, 9, 10];
const lookup = (offset: number, nibble: number[]) => [GET, QP, ...v128Load(offset), GET, X, ...nibble, SIMD, 0x0e]; // i8x16.swizzle
const accumulate = (acc: number, extend: number) => [GET, acc, GET, S, SIMD, extend, 0x01, SIMD, 0x8e, 0x01, SET, acc]; // i16x8.extend_*_i8x16_u, i16x8.add
const store = (acc: number, extend: number, offset: number) => [GET, OUT, GET, acc, SIMD, extend, 0x01, SIMD, 0x0b, 0x02, ...leb(offset)]; // i32x4.extend_*_i16x8_u, v128.store
const signScan = eachRow(ROWS, [
  ...zero, SET, LOW, ...zero, SET, HIGH, ...i32(0), SET, J, GET, QUERY, SET, QP,
  ...blockLoop,
  GET, J, GET, WIDTH, 0x4f, 0x0d, 0x01,
  GET, DATA, ...v128Load(), SET, X,
  ...lookup(0, [SIMD, 0x0c, ...new Array(16).fill(0x0f), SIMD, 0x4e]), // table[low nibble]
  ...lookup(16, [...i32(4), SIMD, 0x6d]), // table[high nibble] (i8x16.shr_u)
  SIMD, 0x6e, SET, S, // i8x16.add: at most 2 x 127
  ...accumulate(LOW, 0x89), ...accumulate(HIGH, 0x8a),
  ...bump(DATA, i32(16)), ...bump(QP, i32(32)), ...bump(J, i32(1)),
  ...endLoop,
  ...store(LOW, 0xa9, 0), ...store(LOW, 0xaa, 16), ...store(HIGH, 0xa9, 32), ...store(HIGH, 0xaa, 48),
  ...bump(OUT, [0x41, 0xc0, 0x00]), // out += 64
]);

const func = (locals: number[], body: number[]) => {
  const code = [...locals, ...body, 0x0b];
  return [...leb(code.length), ...code];
};
/** The memory import: 1 page at least; a shared one (for a helper thread) must say its maximum. */
const module = (shared: boolean) => new WebAssembly.Module(new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [0x02, 0x60, 0x05, I32, I32, I32, I32, I32, 0x00, 0x60, 0x06, I32, I32, I32, I32, I32, I32, 0x00]),
  ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, ...(shared ? [0x03, 0x01, ...leb(MAX_PAGES)] : [0x00, 0x01])]),
  ...section(3, [0x03, 0x00, 0x01, 0x00]),
  ...section(7, [0x03, ...name('scan'), 0x00, 0x00, ...name('scanRows'), 0x00, 0x01, ...name('signScan'), 0x00, 0x02]),
  ...section(10, [0x03,
    ...func([0x02, 0x01, I32, 0x03, V128], scan),
    ...func([0x02, 0x02, I32, 0x03, V128], scanRows),
    ...func([0x02, 0x02, I32, 0x04, V128], signScan)]),
]));

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB, wasm32's limit
const compiled = { local: module(false), shared: null as WebAssembly.Module | null };
type Scan = (data: number, query: number, out: number, rows: number, width: number, list?: number) => void;
/** A scan reading less than this is not worth handing half of to the helper thread. */
const SPLIT_BYTES = 4 * 2 ** 20;

/** The scans over rows held in one WebAssembly memory of their own, on this thread or split with a helper. */
export class SimdScan {
  private readonly memory: WebAssembly.Memory;
  private readonly fns: Scan[];
  private readonly helper: ScanHelper | null = null;

  /** `threads` 2: a helper thread takes half of each large scan (scanHelper.ts). */
  constructor(threads: 1 | 2 = 1) {
    let code = compiled.local;
    if (threads === 2) {
      code = compiled.shared ??= module(true);
      this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
      this.helper = new ScanHelper(code, this.memory);
    } else {
      this.memory = new WebAssembly.Memory({ initial: 1 });
    }
    const e = new WebAssembly.Instance(code, { env: { memory: this.memory } }).exports;
    this.fns = [e.scan, e.scanRows, e.signScan] as Scan[];
  }

  /** Whether a helper thread has started and takes half of large scans. */
  get helping(): boolean {
    return this.helper?.ready ?? false;
  }

  /** Stops the helper thread, if any. */
  async close(): Promise<void> {
    await this.helper?.close();
  }

  /**
   * Runs `fn` over `count` rows of `bytes` each, the second half on the helper thread
   * when there is one; `steps` say how its pointers move a row.
   */
  private run(fn: ScanFn, args: number[], count: number, bytes: number, steps: { data: number; out: number; list: number }): void {
    const helper = this.helper;
    if (!helper || count * bytes < SPLIT_BYTES || !helper.ready) {
      (this.fns[fn] as Scan)(args[0] as number, args[1] as number, args[2] as number, count, args[4] as number, args[5]);
      return;
    }
    const half = count >> 1;
    const [data, query, out, , width, list = 0] = args as [number, number, number, number, number, number?];
    const job = helper.start(fn, [data + half * steps.data, query, out + half * steps.out, count - half, width, list + half * steps.list]);
    (this.fns[fn] as Scan)(data, query, out, half, width, list);
    helper.wait(job);
  }

  /** Makes room for `bytes` and returns the memory (a grown memory replaces the old buffer). */
  reserve(bytes: number): ArrayBufferLike {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    return this.memory.buffer;
  }

  /** out[r] = rows[r] . query (int32) for `count` int8 rows of `width` bytes at the byte offsets given. */
  int8(dataAt: number, queryAt: number, outAt: number, count: number, width: number): void {
    this.run(ScanFn.Int8, [dataAt, queryAt, outAt, count, stride(width)], count, width, { data: width, out: 4, list: 0 });
  }

  /** The same for the rows whose numbers are the `count` int32 values at `listAt`. */
  int8Rows(dataAt: number, queryAt: number, outAt: number, count: number, width: number, listAt: number): void {
    this.run(ScanFn.Int8Rows, [dataAt, queryAt, outAt, count, stride(width), listAt], count, width, { data: 0, out: 4, list: 4 });
  }

  /** out[p] = sum_j u_j bit_j(photo p) for `blocks` blocks of 16 transposed sign codes of `width` bytes (signCodes.ts). */
  signs(dataAt: number, tablesAt: number, outAt: number, blocks: number, width: number): void {
    this.run(ScanFn.Signs, [dataAt, tablesAt, outAt, blocks, width], blocks, 16 * width, { data: 16 * width, out: 64, list: 0 });
  }
}

function stride(width: number): number {
  if (width % 16 !== 0) throw new Error(`scan width ${width} is not a multiple of 16`);
  return width;
}
