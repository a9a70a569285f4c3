// Flow prediction: kernel multipath, IPVS sh/dh/mh, Maglev, Toeplitz and the primitives.
export * from './addr.js';
export * from './multipath.js';
export * from './ipvs.js';
export * from './toeplitz.js';
export * from './maglev.js';
export * from './primitives.js';
