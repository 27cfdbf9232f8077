import { filterSchema, pruneSchema } from '@graphql-tools/utils';
import { Kind, parse, validateSchema, type ConstDirectiveNode, type DocumentNode, type GraphQLSchema } from 'graphql';

export const PUBLIC_TAG = 'public';

const isPublicTag = (d: ConstDirectiveNode): boolean =>
  d.name.value === 'tag' && d.arguments?.some((a) => a.name.value === 'name' && a.value.kind === Kind.STRING && a.value.value === PUBLIC_TAG) === true;

/** Type names and `Type.field` coordinates tagged `@tag(name: "public")` anywhere in the SDL. */
export function publicTagsOf(sdl: string | DocumentNode): { types: Set<string>; fields: Set<string> } {
  const doc = typeof sdl === 'string' ? parse(sdl) : sdl;
  const types = new Set<string>();
  const fields = new Set<string>();
  for (const def of doc.definitions) {
    if (
      def.kind === Kind.OBJECT_TYPE_DEFINITION ||
      def.kind === Kind.OBJECT_TYPE_EXTENSION ||
      def.kind === Kind.INTERFACE_TYPE_DEFINITION ||
      def.kind === Kind.INTERFACE_TYPE_EXTENSION
    ) {
      if (def.directives?.some(isPublicTag)) types.add(def.name.value);
      for (const field of def.fields ?? []) if (field.directives?.some(isPublicTag)) fields.add(`${def.name.value}.${field.name.value}`);
    }
  }
  return { types, fields };
}

/**
 * The public API for third parties (API keys): root fields tagged public, and on every other object
 * or interface type only its public fields (or all, when the type itself is tagged). Types nothing
 * public reaches are dropped. Throws, naming the type, when tagging leaves an invalid schema
 * (e.g. a public field returning a type with no public field).
 */
export function buildPublicSchema(schema: GraphQLSchema, tags: { types: Set<string>; fields: Set<string> }): GraphQLSchema {
  const isPublic = (typeName: string, fieldName: string) => tags.types.has(typeName) || tags.fields.has(`${typeName}.${fieldName}`);
  const rootName = { Query: schema.getQueryType()?.name, Mutation: schema.getMutationType()?.name, Subscription: schema.getSubscriptionType()?.name };
  const filtered = filterSchema({
    schema,
    rootFieldFilter: (operation, fieldName) => {
      const typeName = rootName[operation];
      return typeName !== undefined && isPublic(typeName, fieldName);
    },
    objectFieldFilter: (typeName, fieldName) => isPublic(typeName, fieldName),
    interfaceFieldFilter: (typeName, fieldName) => isPublic(typeName, fieldName),
  });
  const pruned = pruneSchema(filtered);
  const problems = validateSchema(pruned);
  if (problems.length > 0) {
    throw new Error(`public schema is invalid (check @tag(name: "public")):\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
  }
  return pruned;
}
