// Reproducer (issue #9 abuse, found by test/unit/abuse-native.test.ts): the ACCESSORS of the
// native classes accept an instance of the other class as `this` and reinterpret it.
// Methods are safe (V8's signature check: "Illegal invocation"), but InstanceAccessor getters
// (native/src/binding/socket_binding.cc: NativeSocket::Closed, NativeSocket::PortId,
// NativeBatch::Count, NativeBatch::ByteLength) are reached through ObjectWrap::Unwrap, which
// only checks that `this` wraps *some* native object. NativeSocket.portId on a NativeBatch reads
// the batch's MessageWriter buffer pointer as sock_ and dereferences it: an out-of-bounds heap
// read (AddressSanitizer: heap-buffer-overflow under scripts/sanitize.sh), garbage otherwise.
// Fix: check the type tag (CheckTypeTag, as BatchArg does) in every accessor, or tag
// NativeSocket too and unwrap through a tag-checking helper.
// Run: node test/fuzz-corpus/crashes/abuse/accessor-type-confusion.cjs -> exits 1 while the bug
// is there, 0 when every cross-class accessor call throws.
const path = require('node:path');
const root = path.resolve(__dirname, '../../../..');
const native = require(path.join(root, 'node_modules/node-gyp-build'))(root);
const batch = new native.NativeBatch();
const m = Buffer.alloc(20);
m.writeUInt32LE(20, 0);
batch.appendRaw(m);
const get = (cls, name, self) => Object.getOwnPropertyDescriptor(cls.prototype, name).get.call(self);
let bad = 0;
for (const [cls, name, self] of [
  [native.NativeSocket, 'portId', batch],
  [native.NativeSocket, 'closed', batch],
  [native.NativeSocket, 'closed', Object.create(native.NativeSocket.prototype)],
]) {
  try {
    const v = get(cls, name, self);
    console.log(`BUG: ${cls.name}.${name} on a ${self.constructor.name} returned ${v}`);
    bad++;
  } catch (e) {
    console.log(`ok: ${cls.name}.${name} threw ${e.constructor.name}: ${e.message}`);
  }
}
process.exit(bad ? 1 : 0);
