// Unit tests of the app's client logic (session, errors, query keys, DAG layout, run events).
// They run in node: the logic under test takes its browser dependencies (storage, locks, timers) as arguments.
module.exports = {
  ...require('../jest.preset.js'),
  testMatch: ['<rootDir>/src/**/*.test.ts'],
};
