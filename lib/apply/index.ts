// Desired-state apply: a pure planner and its executor over an Ipvs handle (and Rtnl for addresses and routes).
export { planChanges, simulatePlan, describeOp, compareCanonical, PlanError, type Plan, type PlanOp, type PlanOptions, type PlanRefusal, type DrainTarget, type DestRef } from './plan.js';
export { apply, readState, ApplyError, type ApplyOptions, type ApplyResult, type ApplyTiming, type DrainResult, type ReadStateOptions, type NftTableRef, type ConntrackFlushResult } from './apply.js';
