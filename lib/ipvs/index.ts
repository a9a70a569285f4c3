// IPVS: services, destinations, timeouts, sync daemons, info, batches, feature detection.
export { Ipvs, IpvsBatch, IpvsFeatureError, featuresFromSeen, type IpvsOpenOptions, type BatchRunOptions, type FeaturesOptions } from './client.js';
export * from './types.js';
