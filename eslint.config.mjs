// Type-checked lint for every workspace (STYLE.md §12).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/.tsc/**', '**/dist/**', 'proto/src/generated/**', '**/__generated__/**', 'web/**', '**/*.js', '**/*.mjs', 'deploy/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      // lib's unaryCall/serverStreamCall take a generated client's method and call it bound to the client.
      '@typescript-eslint/unbound-method': 'off',
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@orchestra/*/src/*', '../../*/src/*', '../../../*/src/*'], message: 'Import another workspace through its package name, not its src/.' }] },
      ],
    },
  },
  {
    // A worker process loads lib's worker entry only (no PostgreSQL, GraphQL server, Redis or test
    // helpers: issue 11, lean processes). Its tests may use the whole of lib.
    files: ['workers/src/**/*.ts'],
    ignores: ['workers/src/**/*.test.ts', 'workers/src/test-support.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@orchestra/lib', message: "A worker imports '@orchestra/lib/worker' (lib/src/worker-runtime.ts); add what it needs there if it is missing." }],
          patterns: [{ group: ['@orchestra/*/src/*', '../../*/src/*', '../../../*/src/*'], message: 'Import another workspace through its package name, not its src/.' }],
        },
      ],
    },
  },
  {
    // The gateway loads lib's gateway entry only (no PostgreSQL, subgraph server, migrations, mail or
    // test helpers: issue 11, lean processes). Its tests and testing/ may use the whole of lib.
    files: ['gateway/src/**/*.ts'],
    ignores: ['gateway/src/**/*.test.ts', 'gateway/src/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@orchestra/lib', message: "The gateway imports '@orchestra/lib/gateway' (lib/src/gateway-runtime.ts); add what it needs there if it is missing." }],
          patterns: [{ group: ['@orchestra/*/src/*', '../../*/src/*', '../../../*/src/*'], message: 'Import another workspace through its package name, not its src/.' }],
        },
      ],
    },
  },
  {
    // Tests may use looser typing around fixtures and JSON bodies.
    files: ['**/*.test.ts', 'tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
