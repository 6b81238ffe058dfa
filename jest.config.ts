import type { Config } from 'jest';

const config: Config = {
  testEnvironment: '<rootDir>/test/support/jest-environment.js',
  roots: ['<rootDir>/src', '<rootDir>/handlers', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // tsconfig's isolatedModules makes ts-jest transpile file by file (fast);
    // type-checking is done once for the whole tree by `npm run typecheck`.
    '^.+\\.ts$': 'ts-jest',
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  testTimeout: 60_000,
  // The model and the wasm backend are per worker; two workers match the two cores.
  maxWorkers: 2,
};

export default config;
