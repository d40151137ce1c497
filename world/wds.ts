// Caption pairs as webdataset tar shards, laid out the way img2dataset writes CC3M:
// DIR/00000.tar, 00001.tar, … each holding, per sample, KEY.jpg, KEY.json and KEY.txt
// (the caption), plus 00000_stats.json beside each shard. Keys follow img2dataset:
// shard * 10^digits(shard size) + index in shard, zero-padded ("000010005").
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LanguageVersion, Split } from './generate.ts';
import { orderedPool, writeFolderAtomically, type WriterOptions } from './output.ts';
import { photoAt } from './photo.ts';
import { tarEnd, tarMember } from './tar.ts';

/** Square photos of side `size` (img2dataset's default image_size is 256). */
export interface WdsOptions extends WriterOptions {
  split: Split;
  language?: LanguageVersion;
  /** Samples per shard (img2dataset's number_sample_per_shard, default 10000). */
  shardSize: number;
}

/** What KEY.json holds: img2dataset's per-sample metadata, plus the world's truth under `glimpse`. */
export interface WdsSampleMeta {
  url: string;
  key: string;
  status: 'success';
  error_message: null;
  caption: string;
  width: number;
  height: number;
  original_width: number;
  original_height: number;
  exif: string;
  sha256: string;
  glimpse: { seed: number; split: Split; index: number; graph: unknown; captions: unknown; questions: unknown };
}

export interface WdsSummary { count: number; shards: string[] }

/** Shard file names and sample keys, img2dataset style. */
export function wdsLayout(count: number, shardSize: number): { shardName: (shard: number) => string; key: (index: number) => string } {
  const shards = Math.ceil(count / shardSize);
  const shardDigits = Math.max(5, String(shards - 1).length);
  const sampleDigits = Math.max(1, Math.ceil(Math.log10(shardSize)));
  return {
    shardName: (shard) => `${String(shard).padStart(shardDigits, '0')}.tar`,
    key: (index) => {
      const shard = Math.floor(index / shardSize);
      return `${String(shard).padStart(shardDigits, '0')}${String(index % shardSize).padStart(sampleDigits, '0')}`;
    },
  };
}

const IN_FLIGHT = Math.max(4, os.availableParallelism() * 2);

export async function writeWds(opts: WdsOptions): Promise<WdsSummary> {
  const layout = wdsLayout(opts.count, opts.shardSize);
  const shards: string[] = [];
  await writeFolderAtomically(opts.out, opts.force ?? false, async (dir) => {
    let shard: { fd: number; name: string; written: number; samples: number } | null = null;
    const closeShard = (open: NonNullable<typeof shard>) => {
      fs.writeSync(open.fd, tarEnd(open.written));
      fs.closeSync(open.fd);
      // The deterministic part of img2dataset's per-shard stats (no timings).
      const n = open.samples;
      const stats = { count: n, successes: n, failed_to_download: 0, failed_to_resize: 0, status_dict: { success: n } };
      fs.writeFileSync(path.join(dir, open.name.replace(/\.tar$/, '_stats.json')), `${JSON.stringify(stats, null, 2)}\n`);
    };
    try {
      await orderedPool(opts.count, IN_FLIGHT, (i) => photoAt(opts.seed, opts.split, i, opts.size, opts.size, opts.language), (i, photo) => {
        if (shard === null || i % opts.shardSize === 0) {
          if (shard !== null) closeShard(shard);
          const name = layout.shardName(Math.floor(i / opts.shardSize));
          shard = { fd: -1, name, written: 0, samples: 0 };
          shard.fd = fs.openSync(path.join(dir, name), 'w');
          shards.push(name);
        }
        const key = layout.key(i);
        const caption = (photo.captions[0] as { text: string }).text;
        const meta: WdsSampleMeta = {
          url: `glimpse-world://${opts.seed}/${opts.split}/${i}`, key, status: 'success', error_message: null, caption,
          width: photo.width, height: photo.height, original_width: photo.width, original_height: photo.height, exif: '{}',
          sha256: createHash('sha256').update(photo.jpeg).digest('hex'),
          glimpse: { seed: opts.seed, split: opts.split, index: i, graph: photo.graph, captions: photo.captions, questions: photo.questions },
        };
        // One sample's members stay together, in webdataset's sorted-extension order.
        for (const [ext, data] of [['jpg', photo.jpeg], ['json', Buffer.from(JSON.stringify(meta))], ['txt', Buffer.from(caption)]] as const) {
          const member = tarMember(`${key}.${ext}`, data);
          fs.writeSync(shard.fd, member);
          shard.written += member.length;
        }
        shard.samples++;
        opts.onProgress?.(i + 1, opts.count);
      });
      if (shard !== null) closeShard(shard);
      shard = null;
    } finally {
      const open = shard as { fd: number } | null;
      if (open !== null && open.fd >= 0) fs.closeSync(open.fd);
    }
  });
  return { count: opts.count, shards: shards.map((s) => path.join(opts.out, s)) };
}
