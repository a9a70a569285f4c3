// nf_tables and conntrack over nfnetlink: public API.
export * from './types.js';
export { Nft, NftTransaction, NFNL_SUBSYS_NFTABLES, type NftOptions, type NftItemValue } from './nft.js';
export { compileRule, decompileRule, type DecompiledRule } from './compile.js';
