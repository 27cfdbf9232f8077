// Regenerates proto/src/generated from proto/orchestra/**.proto with buf + ts-proto (offline).
// Run from the proto workspace (npm run codegen -w @orchestra/proto).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = join(root, 'proto');
const buf = join(root, 'node_modules', '.bin', 'buf');

execFileSync(buf, ['lint'], { cwd: protoDir, stdio: 'inherit' });
rmSync(join(protoDir, 'src', 'generated'), { recursive: true, force: true });
execFileSync(buf, ['generate'], { cwd: protoDir, stdio: 'inherit' });
console.log('proto: generated proto/src/generated');
