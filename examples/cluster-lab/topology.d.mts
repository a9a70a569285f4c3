// Types of topology.mjs for the TypeScript test that drives it (test/ipvs/cluster-lab.test.ts).
import type { ChildProcess } from 'node:child_process';

export declare const VIP: string;
export declare const PORT: number;
export declare const SERVICE: { protocol: 'tcp'; address: string; port: number };
export declare const HASH_FIELDS: string[];
export declare const HASH_SEED: number;
export interface Recipe { name: string; scheduler: 'mh' | 'wrr'; flags: { schedPort?: boolean; schedFallback?: boolean }; sloppyTcp: 0 | 1 }
export declare const RECIPE: Recipe;
export declare const BASELINE: Recipe;
export declare const PROBE_MARK: number;
export declare const PROBE_TABLE: number;
export declare const FRR_DIR: string;

export interface Director { name: string; ns: string; link: string; routerSide: string; addr: string; lan: string; routerId: string }
export interface RealServer { name: string; ns: string; addr: string; weight: number }
export interface Topology {
  prefix: string;
  sw: { ns: string };
  client: { ns: string; addr: string; addrs: string[] };
  router: { name: string; ns: string; clientSide: string; lan: string; routerId: string };
  directors: Director[];
  servers: RealServer[];
}
export interface LabFlow { key: string; src: string; sport: number }
export interface ClientReply { id: number; [k: string]: unknown }
export interface LabClient { process: ChildProcess; send(cmd: Record<string, unknown>): Promise<any> }

export declare function clusterTopology(prefix: string, o?: { directors?: number; servers?: number; clientAddrs?: number }): Topology;
export declare function namespaces(t: Topology): string[];
export declare function flows(t: Topology, count: number, basePort: number): LabFlow[];
export declare function waitForLine(child: ChildProcess, ok: (line: string) => boolean, timeoutMs: number, what: string): Promise<void>;
export declare function haveFrr(): boolean;

export declare class ClusterLab {
  constructor(lvs: unknown, t: Topology, o?: { log?: (line: string) => void; bfd?: boolean; ipvs?: boolean; bfdIntervalMs?: number; bfdMultiplier?: number; maxSeconds?: number });
  readonly t: Topology;
  readonly lvs: any;
  bfd: boolean;
  runDir: string | undefined;
  pathLog: { at: number; paths: string }[];
  byServerAddr: Map<string, RealServer>;
  rtnl(ns: string): any;
  ipvs(ns: string): any;
  readonly hasSeed: boolean;
  build(): Promise<void>;
  buildDirector(d: Director): Promise<void>;
  announcer(d: Director): { announce(): Promise<unknown>; withdraw(): Promise<unknown> };
  announce(d: Director): Promise<void>;
  configureIpvs(recipe?: Recipe, directors?: Director[]): Promise<void>;
  frrConfig(node: Director | Topology['router']): { zebra: string; ospfd: string; bfdd: string };
  startFrr(node: Director | Topology['router'], o?: { only?: string[] }): Promise<void>;
  killFrr(node: Director | Topology['router'], only?: string[]): void;
  frrLogs(node: Director | Topology['router'], lines?: number): string;
  waitForBfd(timeoutMs?: number): Promise<void>;
  routerPaths(): Promise<string[]>;
  watchPaths(pollMs?: number): void;
  pathChanges(since: number): [number, string][];
  waitForPaths(want: string[], o?: { since?: number; timeoutMs?: number; pollMs?: number }): Promise<{ ms: number; paths: string[] }>;
  queryDirectors(fl: LabFlow[], planned?: string[]): Promise<string[]>;
  predictDirectorsByHash(fl: LabFlow[], paths: string[]): string[];
  connections(d: Director): Promise<Map<string, string>>;
  killDirector(d: Director): Promise<number>;
  reviveDirector(d: Director): Promise<void>;
  startServer(s: RealServer): Promise<void>;
  startServers(): Promise<void>;
  startStandby(s: RealServer): Promise<void>;
  killServer(s: RealServer): void;
  startClient(): Promise<LabClient>;
  close(): string[];
}
