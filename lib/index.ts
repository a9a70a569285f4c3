// lvskit public API. Each object family lives in its own module; this file only re-exports.
export { NetlinkError, LvskitError, ValidationError } from './errors.js';
export { NetlinkSocket, createNetns, deleteNetns, type NetnsSpec, type SocketOptions, type RunOptions } from './socket.js';
export { probeKernel, type KernelProbe, type Capability } from './probe.js';
export { BatchError, type BatchReport, type BatchTiming, type ItemResult, type ItemState } from './batch.js';
export * from './hash/index.js';
export * from './ipvs/index.js';
export * from './rtnl/index.js';
export * from './packet/index.js';
export * from './format/index.js';
export * from './apply/index.js';
export * from './nft/index.js';
export * from './conntrack/index.js';
export { listConnections, parseConnections, readConnectionTable, type IpvsConnection, type ConnectionProtocol, type ConnectionSource } from './ipvs/connections.js';
export { compareDirectors, compareDirectorHandles, formatDirectorComparison, type DirectorView, type DirectorComparison, type DirectorDifference, type DifferenceCause, type ServiceConsistency } from './cluster/consistency.js';
export { predictDisruption, formatDisruption, type IpvsFlow, type DisruptionOptions, type DisruptionPrediction, type ServiceDisruption, type FlowMove } from './cluster/disruption.js';
export { predictEcmpDisruption, predictResilientDisruption, formatEcmpDisruption, ecmpFlowHash, ecmpPathsOfRoute, ecmpPathsOfGroup, HASH_SPACE, type EcmpPath, type EcmpFlow, type EcmpOptions, type EcmpDisruption, type EcmpTransition, type EcmpFlowMove, type ResilientDisruption } from './cluster/ecmp.js';
export type { ServicesInput } from './cluster/slots.js';
