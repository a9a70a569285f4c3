// Connection tracking over nfnetlink: public API.
export {
  Conntrack, type ConntrackEntry, type ConntrackFilter, type ConntrackTuple, type ConntrackProtocol, type ConntrackTcpState,
  type ConntrackOptions, type ConntrackDeleteResult,
} from './conntrack.js';
