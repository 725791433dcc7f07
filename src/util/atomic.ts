/**
 * Write a file so that readers see either the old or the complete new content: temp file, then rename.
 * Temp files sit beside the target as `.<name>.<pid>.<ms>[.<n>][.items].tmp` (the queue's
 * `removeStaleTemps` removes an earlier attempt's by that pattern).
 */
import fs from 'node:fs';
import path from 'node:path';

let serial = 0;
function tempName(file: string, suffix = ''): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.${serial++}${suffix}.tmp`);
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * A JSON object whose last property is a long array, written while the array's items arrive, so that
 * the items need not be held in memory: each `push` appends the item's JSON to a side temp file;
 * `commit(head)` writes `head` with the array as its last property into a second temp file (the side
 * file copied in) and renames it over `file`. The bytes are exactly `JSON.stringify({ ...head, [key]:
 * items }) + '\n'`. `abort()` (or a failed commit) removes both temp files; `file` never holds a partial
 * document. `item(i)` reads an item back from the side file (until commit).
 */
export class StreamedJsonFile<T> {
  private fd: number | undefined;
  private side: string | undefined;
  /** byte offset of each item in the side file, and the end */
  private readonly offsets: number[] = [0];

  constructor(readonly file: string, readonly key: string) {}

  get count(): number { return this.offsets.length - 1; }

  push(item: T): void {
    if (this.fd === undefined) {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      this.side = tempName(this.file, '.items');
      this.fd = fs.openSync(this.side, 'wx+');
    }
    const json = (this.count ? ',' : '') + (JSON.stringify(item) ?? 'null');
    const end = this.offsets[this.count];
    const bytes = Buffer.from(json);
    fs.writeSync(this.fd, bytes, 0, bytes.length, end);
    this.offsets.push(end + bytes.length);
  }

  /** Item `i` as pushed (a JSON round trip). */
  item(i: number): T {
    if (!(i >= 0 && i < this.count) || this.fd === undefined) throw new RangeError(`${this.file}: no item ${i} of ${this.count}`);
    const start = this.offsets[i] + (i ? 1 : 0);
    const buf = Buffer.alloc(this.offsets[i + 1] - start);
    fs.readSync(this.fd, buf, 0, buf.length, start);
    return JSON.parse(buf.toString('utf8')) as T;
  }

  commit(head: object): void {
    const tmp = tempName(this.file);
    let out: number | undefined;
    try {
      const h = JSON.stringify(head);
      out = fs.openSync(tmp, 'wx');
      fs.writeSync(out, `${h.slice(0, -1)}${h.length > 2 ? ',' : ''}${JSON.stringify(this.key)}:[`);
      if (this.fd !== undefined) {
        const buf = Buffer.alloc(1 << 20);
        for (let pos = 0, end = this.offsets[this.count]; pos < end;) {
          const n = fs.readSync(this.fd, buf, 0, Math.min(buf.length, end - pos), pos);
          if (n <= 0) throw new Error(`${this.side}: ended after ${pos} of ${end} bytes`);
          fs.writeSync(out, buf, 0, n);
          pos += n;
        }
      }
      fs.writeSync(out, ']}\n');
      fs.closeSync(out);
      out = undefined;
      fs.renameSync(tmp, this.file);
    } catch (err) {
      if (out !== undefined) fs.closeSync(out);
      fs.rmSync(tmp, { force: true });
      this.abort();
      throw err;
    }
    this.abort();
  }

  /** Remove the temp files (nothing is written to `file`). Safe to call more than once. */
  abort(): void {
    if (this.fd !== undefined) {
      try { fs.closeSync(this.fd); } catch { /* already closed */ }
      this.fd = undefined;
    }
    if (this.side) fs.rmSync(this.side, { force: true });
    this.side = undefined;
  }
}
