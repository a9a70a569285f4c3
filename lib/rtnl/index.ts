// rtnetlink public API: links, addresses, sysctls, events and the Rtnl handle; routes, nexthops
// and rules. Each module adds its own lines.
export * from './ip.js';
export * from './link-types.js';
export { Links, type LinkBatchOp, type LinkBatchOptions } from './link.js';
export { Addresses, type AddressBatchOp, type AddressBatchOptions } from './address.js';
export { Sysctl, IPVS_SYSCTLS, MULTIPATH_HASH_FIELDS, type IpvsSysctlName, type MultipathHashField, type MultipathHashPolicy, type MultipathHashSettings } from './sysctl.js';
export { RtnlEventStream, RTNL_EVENT_TYPES, type RtnlEvent, type RtnlChangeEvent, type RtnlOverrunEvent, type RtnlEventType, type EventOptions } from './events.js';
export { Rtnl, type RtnlOptions } from './handle.js';
export * from './route-types.js';
export { Routes, openRoutes, decodeRouteMessage, routeFromNative, type BatchOptions as RouteBatchOptions, type ListOptions as RouteListOptions } from './route.js';
export { NextHops, decodeNextHopMessage, nextHopFromNative } from './nexthop.js';
export { Rules, decodeRuleMessage, ruleFromNative } from './rule.js';
