// Fails when generated files differ from what is committed (run after `npm run codegen`).
// Usage: node scripts/check-clean.mjs <path>...
import { execFileSync } from 'node:child_process';

const paths = process.argv.slice(2);
const out = execFileSync('git', ['status', '--porcelain', '--', ...paths], { encoding: 'utf8' });
if (out.trim()) {
  console.error('codegen:check: generated files are out of date with their sources:');
  console.error(out);
  console.error('Run `npm run codegen` and commit the result.');
  process.exit(1);
}
console.log(`codegen:check: ${paths.join(', ')} up to date`);
