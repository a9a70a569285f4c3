// IPVS: services, destinations, timeouts, sync daemons, info, batches, feature detection.
export { Ipvs, IpvsBatch, IpvsFeatureError, featuresFromSeen, checkTunnelSupport, type IpvsOpenOptions, type BatchRunOptions, type FeaturesOptions, type IpvsRollbackReport } from './client.js';
export * from './types.js';
