import { composeServices } from '@apollo/composition';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadSubgraphTypeDefs } from '@orchestra/lib';

const ROOT = resolve(__dirname, '..', '..');

/**
 * Composes a supergraph from the given subgraphs' schema.graphql (the same SDL each service serves)
 * into a temporary file for the gateway's SUPERGRAPH_PATH, so these suites run against the catalog
 * schema as it is in this tree, whatever subgraphs the committed gateway/supergraph.graphql holds.
 */
export function composeSupergraphFile(services: string[]): string {
  const result = composeServices(
    services.map((name) => ({
      name,
      url: `http://127.0.0.1:1/${name}`,
      typeDefs: loadSubgraphTypeDefs(join(ROOT, 'subgraphs', name, 'src', 'schema.graphql')),
    })),
  );
  if (result.errors) throw new Error(`supergraph composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  const file = join(mkdtempSync(join(tmpdir(), 'orchestra-supergraph-')), 'supergraph.graphql');
  writeFileSync(file, result.supergraphSdl);
  return file;
}
