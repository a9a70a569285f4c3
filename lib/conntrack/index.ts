// Connection tracking over nfnetlink: public API.
export {
  Conntrack, entryFromNative, type ConntrackEntry, type ConntrackFilter, type ConntrackTuple, type ConntrackProtocol, type ConntrackTcpState,
  type ConntrackOptions, type ConntrackDeleteResult,
} from './conntrack.js';
