// Health checks of real servers (keepalived/ldirectord style) run from a director's namespace, and
// the monitor that drives IPVS weights from them. docs/health.md.
export {
  HealthChecker,
  HealthCheckerError,
  validateCheck,
  type HealthCheck,
  type TcpCheck,
  type HttpCheck,
  type UdpCheck,
  type ModuleCheck,
  type FunctionCheck,
  type HealthCheckContext,
  type HealthCheckResult,
  type HealthCheckerOptions,
} from './checker.js';
export {
  HealthMonitor,
  monitorHealth,
  type HealthMonitorConfig,
  type HealthServiceConfig,
  type HealthDestinationConfig,
  type HealthTiming,
  type HealthEvent,
  type DestinationHealth,
  type DestinationRef,
} from './monitor.js';
export type { EventSubscription } from './events.js';
