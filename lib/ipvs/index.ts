// IPVS: services, destinations, timeouts, sync daemons, info, batches, feature detection.
export { Ipvs, IpvsBatch, IpvsFeatureError, featuresFromSeen, checkTunnelSupport, type IpvsOpenOptions, type BatchRunOptions, type FeaturesOptions, type IpvsRollbackReport } from './client.js';
export * from './types.js';
// The batch report types and BatchError are shared by every family (lib/batch.ts).
export { BatchError, type BatchReport, type ItemResult, type ItemState } from '../batch.js';
