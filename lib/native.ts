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

// The addon exposes plain methods (V8 checks `this` on methods; native accessors would unwrap a
// foreign object first): the properties the rest of lib/ reads are defined here over them.
interface RawBatchProto { getCount(): number; getByteLength(): number }
interface RawSocketProto { isClosed(): boolean; getPortId(): number }
function getter<T>(proto: object, name: string, get: (this: T) => unknown): void {
  Object.defineProperty(proto, name, { get, configurable: true, enumerable: false });
}
getter<RawBatchProto>(native.NativeBatch.prototype, 'count', function () { return this.getCount(); });
getter<RawBatchProto>(native.NativeBatch.prototype, 'byteLength', function () { return this.getByteLength(); });
getter<RawSocketProto>(native.NativeSocket.prototype, 'closed', function () { return this.isClosed(); });
getter<RawSocketProto>(native.NativeSocket.prototype, 'portId', function () { return this.getPortId(); });
