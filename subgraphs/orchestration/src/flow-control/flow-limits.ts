// `npm run flow-limits -w @orchestra/orchestration -- <command>`: what platform operators allow an
// organization (quotas, pool grants); see limits-cli.ts for the commands.
import { runFlowLimits } from './limits-cli';

runFlowLimits(process.argv.slice(2), process.env, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`flow-limits: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
