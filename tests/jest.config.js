module.exports = {
  ...require('../jest.preset.js'),
  // Each suite starts several service processes: one suite at a time on this 2-core machine.
  maxWorkers: 1,
  testTimeout: 120_000,
};
