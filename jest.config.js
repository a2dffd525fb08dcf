const { availableParallelism } = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  // Most test files spend their time waiting on a database, Redis, a child process or a browser, not on a core:
  // two workers even on two cores (jest's default would be one there). Measured on CI's kind of machine: README.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 20000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
