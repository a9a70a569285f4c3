// Packets -> flows: header parsing (Ethernet, VLAN, PPPoE, Linux cooked, raw IP; IPv4/IPv6 with
// options and extension headers; TCP/UDP/SCTP/DCCP/UDP-Lite ports, AH/ESP SPI; ICMP errors'
// quoted headers) and pcap/pcapng readers, in bulk into the lib/hash struct-of-arrays layout.
export * from './parse.js';
export * from './pcap.js';
export * from './objects.js';
