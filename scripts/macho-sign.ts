/**
 * Checking and writing the ad-hoc code signature of a thin 64-bit Mach-O executable (the darwin release
 * artifacts), without macOS or `codesign`.
 *
 * Why: Bun 1.4's `bun build --compile` re-signs darwin-arm64 output itself, but darwin-x64 output keeps
 * the runtime's original signature, whose page hashes stop matching once the bundle is written in, and
 * macOS may kill a process whose code does not match its signature. An ad-hoc signature (what the linker
 * and `codesign -s -` write) needs no certificate: a CodeDirectory holding the SHA-256 of every 4 KiB page
 * of the file up to the signature. adhocSign writes the same bytes Bun writes for darwin-arm64.
 */
import { createHash } from "node:crypto";
import { chmodSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";

const MH_MAGIC_64 = 0xfeedfacf;
const MH_EXECUTE = 2;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_ADHOC_LINKER_SIGNED = 0x20002; // CS_ADHOC | CS_LINKER_SIGNED, as ld64 and Bun write them
const CD_VERSION = 0x20400; // the first version with the exec-segment fields
const CD_HEADER_BYTES = 88; // CodeDirectory header at CD_VERSION
const PAGE_BYTES = 4096; // the page size signatures hash (pageSize field = log2 = 12)
const HASH_SHA256 = 2;
const SHA256_BYTES = 32;

interface Layout {
  sigCmd: number; // offset of the LC_CODE_SIGNATURE command
  dataoff: number;
  datasize: number;
  linkeditCmd: number; // offset of the __LINKEDIT segment command
  text: { fileoff: bigint; filesize: bigint };
  execute: boolean;
}

function layout(b: Buffer): Layout {
  if (b.length < 32 || b.readUInt32LE(0) !== MH_MAGIC_64) throw new Error("not a thin 64-bit little-endian Mach-O file");
  const ncmds = b.readUInt32LE(16);
  let off = 32;
  let sig: { at: number; dataoff: number; datasize: number } | null = null;
  let linkeditCmd = -1;
  let text: Layout["text"] | null = null;
  for (let i = 0; i < ncmds; i++) {
    const cmd = b.readUInt32LE(off);
    const size = b.readUInt32LE(off + 4);
    if (cmd === LC_CODE_SIGNATURE) sig = { at: off, dataoff: b.readUInt32LE(off + 8), datasize: b.readUInt32LE(off + 12) };
    if (cmd === LC_SEGMENT_64) {
      const name = b.toString("latin1", off + 8, off + 24).replace(/\0+$/, "");
      if (name === "__LINKEDIT") linkeditCmd = off;
      if (name === "__TEXT") text = { fileoff: b.readBigUInt64LE(off + 40), filesize: b.readBigUInt64LE(off + 48) };
    }
    off += size;
  }
  if (!sig) throw new Error("no LC_CODE_SIGNATURE load command");
  if (linkeditCmd < 0 || !text) throw new Error("no __LINKEDIT or __TEXT segment");
  if (b.readBigUInt64LE(linkeditCmd + 40) > BigInt(sig.dataoff)) throw new Error("the signature does not lie in __LINKEDIT");
  return { sigCmd: sig.at, dataoff: sig.dataoff, datasize: sig.datasize, linkeditCmd, text, execute: b.readUInt32LE(12) === MH_EXECUTE };
}

const pageHash = (b: Buffer, page: number, codeLimit: number) =>
  createHash("sha256").update(b.subarray(page * PAGE_BYTES, Math.min((page + 1) * PAGE_BYTES, codeLimit))).digest();

/** Why the file's code signature would not verify, or null when every page matches its CodeDirectory. */
export function signatureProblem(b: Buffer): string | null {
  const l = layout(b);
  if (l.dataoff + l.datasize !== b.length) return `the signature ends at ${l.dataoff + l.datasize}, not at the end of the file (${b.length})`;
  if (b.readUInt32BE(l.dataoff) !== CSMAGIC_EMBEDDED_SIGNATURE) return "no embedded-signature SuperBlob";
  const count = b.readUInt32BE(l.dataoff + 8);
  const slot0 = Array.from({ length: count }, (_, i) => l.dataoff + 12 + 8 * i).find((at) => b.readUInt32BE(at) === 0);
  if (slot0 === undefined) return "no CodeDirectory slot";
  const cd = l.dataoff + b.readUInt32BE(slot0 + 4);
  if (b.readUInt32BE(cd) !== CSMAGIC_CODEDIRECTORY) return "slot 0 is not a CodeDirectory";
  const hashOffset = b.readUInt32BE(cd + 16);
  const nCodeSlots = b.readUInt32BE(cd + 28);
  const codeLimit = b.readUInt32BE(cd + 32);
  const [hashSize, hashType, pageShift] = [b[cd + 36], b[cd + 37], b[cd + 39]];
  if (hashType !== HASH_SHA256 || hashSize !== SHA256_BYTES || pageShift !== 12) return `unsupported CodeDirectory (hash type ${hashType}, page 2^${pageShift})`;
  if (codeLimit !== l.dataoff) return `the CodeDirectory covers ${codeLimit} bytes but the signature starts at ${l.dataoff}`;
  if (nCodeSlots !== Math.ceil(codeLimit / PAGE_BYTES)) return `${nCodeSlots} page hashes for ${codeLimit} bytes`;
  let bad = 0;
  for (let page = 0; page < nCodeSlots; page++) {
    const at = cd + hashOffset + page * SHA256_BYTES;
    if (!pageHash(b, page, codeLimit).equals(b.subarray(at, at + SHA256_BYTES))) bad++;
  }
  return bad ? `${bad} of ${nCodeSlots} page hashes do not match` : null;
}

/** The file with a fresh ad-hoc signature in place of its old one (and __LINKEDIT resized to fit). */
export function adhocSigned(b: Buffer, identifier: string): Buffer {
  const l = layout(b);
  const codeLimit = l.dataoff;
  const nCodeSlots = Math.ceil(codeLimit / PAGE_BYTES);
  const ident = Buffer.from(`${identifier}\0`, "utf8");
  const hashOffset = CD_HEADER_BYTES + ident.length;
  const cdLength = hashOffset + nCodeSlots * SHA256_BYTES;
  const superLength = 12 + 8 + cdLength; // SuperBlob header, one index entry, the CodeDirectory

  const out = Buffer.alloc(codeLimit + superLength);
  b.copy(out, 0, 0, codeLimit);
  // The load commands sit in page 0, so they are updated before any page is hashed.
  out.writeUInt32LE(superLength, l.sigCmd + 12);
  const linkeditFileoff = out.readBigUInt64LE(l.linkeditCmd + 40);
  const linkeditFilesize = BigInt(codeLimit + superLength) - linkeditFileoff;
  out.writeBigUInt64LE(linkeditFilesize, l.linkeditCmd + 48);
  const vmNeeded = (linkeditFilesize + 0xfffn) & ~0xfffn; // whole 4 KiB pages, as Bun rounds it on arm64 too
  if (out.readBigUInt64LE(l.linkeditCmd + 32) < vmNeeded) out.writeBigUInt64LE(vmNeeded, l.linkeditCmd + 32);

  let at = codeLimit;
  for (const word of [CSMAGIC_EMBEDDED_SIGNATURE, superLength, 1, 0, 20]) at = out.writeUInt32BE(word, at);
  const cd = at;
  for (const word of [CSMAGIC_CODEDIRECTORY, cdLength, CD_VERSION, CS_ADHOC_LINKER_SIGNED, hashOffset, CD_HEADER_BYTES, 0, nCodeSlots, codeLimit]) {
    at = out.writeUInt32BE(word, at);
  }
  for (const byte of [SHA256_BYTES, HASH_SHA256, 0, 12]) at = out.writeUInt8(byte, at); // hash size, type, platform, log2(page)
  at += 16; // spare2, scatterOffset, teamOffset, spare3: zero
  at = out.writeBigUInt64BE(0n, at); // codeLimit64: unused below 4 GiB
  at = out.writeBigUInt64BE(l.text.fileoff, at);
  at = out.writeBigUInt64BE(l.text.filesize, at);
  at = out.writeBigUInt64BE(l.execute ? 1n : 0n, at); // CS_EXECSEG_MAIN_BINARY
  ident.copy(out, cd + CD_HEADER_BYTES);
  for (let page = 0; page < nCodeSlots; page++) pageHash(out, page, codeLimit).copy(out, cd + hashOffset + page * SHA256_BYTES);
  return out;
}

/** Re-signs `path` ad hoc when its signature does not verify; returns what was wrong, or null. */
export function ensureAdhocSignature(path: string, identifier: string): string | null {
  const b = readFileSync(path);
  const problem = signatureProblem(b);
  if (!problem) return null;
  const tmp = `${path}.sign.tmp`;
  try {
    writeFileSync(tmp, adhocSigned(b, identifier));
    chmodSync(tmp, statSync(path).mode & 0o7777);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  return problem;
}
