/**
 * The building blocks of the rewards tree against independent references: SHA-256 against
 * node:crypto, bit writing/reading against @ton/core's BitString, HmLabel encodings against
 * @ton/core's own label writer (dict/serializeDict.js).
 */
import { beginCell, type Builder } from '@ton/core';
import { detectLabelType, writeLabelLong, writeLabelSame, writeLabelShort } from '@ton/core/dist/dict/serializeDict.js';
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BitReader, BitWriter } from '../../domain/merkle/bits.ts';
import { labelLengthBits, readLabel, writeZeroLabel } from '../../domain/merkle/label.ts';
import { paddedLength, sha256Into, sha256Words } from '../../domain/merkle/sha256.ts';
import { prng, throwsA } from './reference.ts';

function bitsOf(w: BitWriter): string {
  let s = '';
  for (let i = 0; i < w.length; i++) s += (w.bytes[w.start + (i >>> 3)]! >>> (7 - (i & 7))) & 1;
  return s;
}

function coreBits(write: (b: Builder) => void): string {
  const b = beginCell();
  write(b);
  const bits = b.endCell().bits;
  let s = '';
  for (let i = 0; i < bits.length; i++) s += bits.at(i) ? '1' : '0';
  return s;
}

test('sha256Into equals node:crypto for every length 0..300 and writes at the offset', () => {
  const rand = prng(11);
  for (let len = 0; len <= 300; len++) {
    const msg = new Uint8Array(len).map(() => Math.floor(rand() * 256));
    const buf = new Uint8Array(paddedLength(len));
    buf.set(msg);
    const out = new Uint8Array(40).fill(0xee);
    sha256Into(buf, len, out, 5);
    assert.is(Buffer.from(out.subarray(5, 37)).toString('hex'), createHash('sha256').update(msg).digest('hex'), `length ${len}`);
    assert.is(out[4], 0xee);
    assert.is(out[37], 0xee);
  }
});

test('sha256Words equals node:crypto over padded big-endian words, 1 to 3 blocks', () => {
  for (const len of [0, 1, 42, 55, 56, 63, 64, 71, 72, 119, 120, 180]) {
    const msg = Buffer.from(Array.from({ length: len }, (_, i) => (i * 37 + len) & 0xff));
    const padded = Buffer.alloc(paddedLength(len));
    msg.copy(padded);
    padded[len] = 0x80;
    padded.writeUInt32BE(len * 8, padded.length - 4);
    const words = new Int32Array(padded.length / 4);
    for (let i = 0; i < words.length; i++) words[i] = padded.readInt32BE(i * 4);
    const out = new Int32Array(10);
    sha256Words(words, padded.length / 64, out, 2);
    const digest = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) digest.writeInt32BE(out[2 + i]!, i * 4);
    assert.is(digest.toString('hex'), createHash('sha256').update(msg).digest('hex'), `length ${len}`);
  }
});

test('sha256Into refuses a buffer without room for the padding', () => {
  throwsA(() => sha256Into(new Uint8Array(64), 56, new Uint8Array(32), 0), RangeError, /needs 128/);
});

test('BitWriter writes what @ton/core writes; BitReader reads it back; completion tag', () => {
  const rand = prng(7);
  for (let round = 0; round < 200; round++) {
    const w = new BitWriter(new Uint8Array(140), 3);
    const ops: Array<[number, number]> = [];
    const bytes = new Uint8Array(5).map(() => Math.floor(rand() * 256));
    while (w.length < 900) {
      const bits = Math.floor(rand() * 33);
      const value = bits === 0 ? 0 : Math.floor(rand() * 2 ** bits);
      w.writeUint(value, bits);
      ops.push([value, bits]);
      if (rand() < 0.2) {
        w.writeBytes(bytes, 1, 3);
        for (let i = 1; i < 4; i++) ops.push([bytes[i]!, 8]);
      }
    }
    assert.is(bitsOf(w), coreBits((b) => ops.forEach(([v, n]) => b.storeUint(v, n))));
    const r = new BitReader(w.bytes.subarray(3), w.length);
    for (const [v, n] of ops) assert.is(r.readUint(n), v);
    assert.is(r.remaining, 0);
    throwsA(() => r.readBit(), RangeError, /past the end/);
    const length = w.length;
    const dataBytes = w.padWithCompletionTag();
    assert.is(dataBytes, Math.ceil(length / 8));
    if (length % 8) assert.is(w.bytes[3 + (length >>> 3)]! & (0xff >>> (length % 8)), 0x80 >>> (length % 8));
    w.reset();
    assert.is(w.length, 0);
    assert.ok(w.bytes.subarray(3).every((b) => b === 0));
  }
});

test('labelLengthBits(m) = ceil(log2(m + 1)) for every key length', () => {
  for (let m = 0; m <= 32; m++) assert.is(labelLengthBits(m), Math.ceil(Math.log2(m + 1)), `m=${m}`);
});

test('writeZeroLabel picks and writes the encoding @ton/core picks, for every n ≤ m ≤ 32', () => {
  for (let m = 0; m <= 32; m++) {
    for (let n = 0; n <= m; n++) {
      const src = '0'.repeat(n);
      const kind = detectLabelType(src, m);
      const expected = coreBits((b) => {
        if (kind === 'short') writeLabelShort(src, b);
        else if (kind === 'long') writeLabelLong(src, m, b);
        else writeLabelSame(false, n, m, b);
      });
      const w = new BitWriter(new Uint8Array(16), 0);
      writeZeroLabel(w, n, m);
      assert.is(bitsOf(w), expected, `n=${n} m=${m} (${kind})`);
    }
  }
});

test('readLabel reads short, long and same labels with any bits; rejects labels longer than the key', () => {
  const rand = prng(3);
  for (let m = 0; m <= 32; m++) {
    for (let n = 0; n <= m; n++) {
      const src = Array.from({ length: n }, () => (rand() < 0.5 ? '1' : '0')).join('');
      const value = n === 0 ? 0 : parseInt(src, 2);
      const encodings: Array<[string, (b: Builder) => void, number]> = [
        ['short', (b) => void writeLabelShort(src, b), value],
        ['long', (b) => void writeLabelLong(src, m, b), value],
        ['same0', (b) => writeLabelSame(false, n, m, b), 0],
        ['same1', (b) => writeLabelSame(true, n, m, b), n === 0 ? 0 : 2 ** n - 1],
      ];
      for (const [name, write, bits] of encodings) {
        const cell = beginCell();
        write(cell);
        cell.storeUint(0b101, 3); // what follows the label stays unread
        const c = cell.endCell();
        const bytes = new Uint8Array(Math.ceil(c.bits.length / 8));
        for (let i = 0; i < c.bits.length; i++) if (c.bits.at(i)) bytes[i >>> 3]! |= 0x80 >>> (i & 7);
        const r = new BitReader(bytes, c.bits.length);
        assert.equal(readLabel(r, m), { length: n, bits }, `${name} n=${n} m=${m}`);
        assert.is(r.readUint(3), 0b101);
      }
    }
  }
  // short label 0 111 0 (three bits) where only two key bits are left
  throwsA(() => readLabel(new BitReader(new Uint8Array([0b01110000]), 8), 2), RangeError, /label of 3 bits/);
});

test.run();
