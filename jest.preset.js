// Shared jest settings for every workspace (each has a jest.config.js that spreads this).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.tsc/', '/dist/'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      {
        jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
        // Keep import() as a real dynamic import: postgrator and others are ESM-only.
        module: { type: 'commonjs', ignoreDynamic: true },
      },
    ],
  },
  // ESM-only dependencies (of fastify/mercurius; @scure/base and @noble/hashes of otplib) that must be
  // transformed to run under jest's CJS (node itself loads them with require(esm)).
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie|@scure/base|@noble/hashes)/)'],
  testTimeout: 30_000,
  // Suites share one PostgreSQL and Redis on a 2-core machine: keep parallelism modest.
  maxWorkers: 2,
};
