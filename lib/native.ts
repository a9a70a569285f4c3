// Loads the addon (build/Release or prebuilds/ through node-gyp-build) and describes its whole
// surface in one place: lib/addon-types.ts. Nothing else in lib/ touches the raw binding.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { NativeAddon } from './addon-types.js';

const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;

// dist/native.js and lib/native.ts both sit one level below the package root.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const native = nodeGypBuild(root) as NativeAddon;
