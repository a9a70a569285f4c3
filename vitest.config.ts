import { defineConfig } from 'vitest/config';

// Three tiers (docs/contributing.md):
//  unit  - no kernel: codecs on captured bytes, hashes, parsers, validation.
//  netns - the host kernel, inside network namespaces each test file creates and removes.
//  ipvs  - a kernel with IPVS: natively when the host has it, else inside the lab VM
//          (test/lab/run-tests.mjs decides; npm test runs all three).
// pool 'forks': native addons and worker threads do not mix well, and each file gets a fresh process.
const common = { pool: 'forks' as const, testTimeout: 60_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { ...common, name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { ...common, name: 'netns', include: ['test/netns/**/*.test.ts'] } },
      { test: { ...common, name: 'ipvs', include: ['test/ipvs/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 } },
    ],
  },
});
