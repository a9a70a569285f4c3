// Native surface of the IPVS family (native/src/binding/ipvs_binding.cc).
export interface IpvsNative {}
