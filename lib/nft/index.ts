// nf_tables and conntrack over nfnetlink: public API.
export * from './types.js';
export { Nft, NftTransaction, NFNL_SUBSYS_NFTABLES, type NftOptions, type NftItemValue, type NftTransactionOptions } from './nft.js';
export { compileRule, decompileRule, packExprs, type DecompiledRule } from './compile.js';
export { canonicalTable, canonicalRule, tablesEqual } from './state.js';
