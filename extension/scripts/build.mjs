// Builds dist/paperfeed-chrome.zip and dist/paperfeed-firefox.zip from this one source tree.
// Both zips hold the same files (the manifest serves both browsers); only what ships is
// included: manifest.json, icons/, src/. No dependencies: a minimal stored+deflated zip writer.
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateRawSync, crc32 as zlibCrc32 } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SHIP = ["manifest.json", "icons", "src"];

function walk(path) {
  return statSync(path).isDirectory() ? readdirSync(path).sort().flatMap((n) => walk(join(path, n))) : [path];
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = zlibCrc32 || ((buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
});

function zip(files) {
  const local = [];
  const central = [];
  let offset = 0;
  const dosTime = 0; // fixed timestamps: reproducible zips
  const dosDate = (1 << 5) | 1; // 1980-01-01
  for (const { name, data } of files) {
    const nameBuf = Buffer.from(name, "utf8");
    const deflated = deflateRawSync(data, { level: 9 });
    const crc = crc32(data) >>> 0;
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(0x0800, 6);
    head.writeUInt16LE(8, 8);
    head.writeUInt16LE(dosTime, 10);
    head.writeUInt16LE(dosDate, 12);
    head.writeUInt32LE(crc, 14);
    head.writeUInt32LE(deflated.length, 18);
    head.writeUInt32LE(data.length, 22);
    head.writeUInt16LE(nameBuf.length, 26);
    head.writeUInt16LE(0, 28);
    local.push(head, nameBuf, deflated);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(20, 4);
    cen.writeUInt16LE(20, 6);
    cen.writeUInt16LE(0x0800, 8);
    cen.writeUInt16LE(8, 10);
    cen.writeUInt16LE(dosTime, 12);
    cen.writeUInt16LE(dosDate, 14);
    cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(deflated.length, 20);
    cen.writeUInt32LE(data.length, 24);
    cen.writeUInt16LE(nameBuf.length, 28);
    cen.writeUInt32LE(offset, 42);
    central.push(cen, nameBuf);
    offset += head.length + nameBuf.length + deflated.length;
  }
  const centralBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, centralBuf, end]);
}

const files = SHIP.flatMap((p) => walk(join(root, p))).map((path) => ({
  name: relative(root, path).split("\\").join("/"),
  data: readFileSync(path),
}));
mkdirSync(join(root, "dist"), { recursive: true });
for (const browser of ["chrome", "firefox"]) {
  const out = join(root, "dist", `paperfeed-${browser}.zip`);
  writeFileSync(out, zip(files));
  console.log(`${relative(root, out)}: ${files.length} files`);
}
