import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSchemaFiles } from './schema-files';
import { SUBGRAPHS } from './subgraphs';

// Usage: tsx src/compose/cli.ts write [--dir <folder>]   regenerates the files (default: gateway/)
//        tsx src/compose/cli.ts check [--dir <folder>]   exits 1 when they differ from what the subgraphs compose to
const dirArg = process.argv.indexOf('--dir');
const dir = dirArg >= 0 && process.argv[dirArg + 1] ? resolve(process.argv[dirArg + 1]!) : join(__dirname, '..', '..');
const mode = process.argv[2] ?? 'write';
const files = Object.entries(generateSchemaFiles());

if (mode === 'write') {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of files) writeFileSync(join(dir, name), content);
  console.log(`gateway: wrote ${files.map(([name]) => name).join(', ')} in ${dir} (${SUBGRAPHS.map((s) => s.name).join(', ')})`);
} else if (mode === 'check') {
  const stale = files
    .filter(([name, want]) => {
      try {
        return readFileSync(join(dir, name), 'utf8') !== want;
      } catch {
        return true;
      }
    })
    .map(([name]) => join(dir, name));
  if (stale.length > 0) {
    console.error(`gateway: out of date with the subgraph schemas: ${stale.join(', ')}\nRun \`npm run codegen\` and commit.`);
    process.exit(1);
  }
  console.log('gateway: supergraph, public and API schemas match the subgraphs');
} else {
  console.error(`usage: cli.ts write|check [--dir <folder>] (got ${mode})`);
  process.exit(2);
}
