// Types of scenarios.mjs for the TypeScript test that drives it (test/ipvs/cluster-lab.test.ts).
import type { ClusterLab, Director, LabClient, LabFlow, RealServer, Recipe } from './topology.mjs';

export declare const VIP: string;
type Histogram = Record<string, number>;

export interface Opened { flows: LabFlow[]; keys: string[]; opened: number; failed: { key: string; error: string }[]; openMs: number; byServer: Histogram }
export interface DirectorFailure {
  recipe: string; victim: string; connections: number; opened: number; lostBefore: number; openFailed: number; openMs: number; byServer: Histogram;
  paths: string[]; planned: string[]; pathsAfter: string[]; dropMs: number; settleMs: number;
  survived: number; broken: string[]; stalled: string[]; errors: Histogram; resets: number;
  entryAgrees: number; serverAgrees?: number; byHashAgrees?: number; share?: { share: number; survivorShare: number };
  predictedMoved: string[]; actualMoved: string[]; unclear: number; fromVictim: number; betweenSurvivors: number; keys: string[]; pathChanges: [number, string][]; flapped: boolean; phasesMs: Record<string, number>;
}
export interface Revived { backMs: number; paths: string[]; aliveBefore?: number; aliveAfter?: number; errors?: Histogram }
export interface Monitors { monitors: Map<string, { stop(): Promise<void> }>; intervalMs: number; fall: number; rise: number; startMs: number }
export interface RealServerFailure {
  victim: string; checkIntervalMs: number; fall: number; rise: number; drainMs: number; riseMs: number; fallAt: number[]; drainedAt: number[];
  onVictim: number; others: number; othersAlive: number; othersErrors: Histogram;
  probes: number; probeServers: Histogram; probesToVictim: number; probeFailures: number; probePredicted: number; entriesToVictim: number;
  disruptionShare?: number; probeDisruptionAgrees?: number;
}
export interface GracefulDrain {
  director: string; connections: number; paths: string[]; planned: string[]; dropMs: number;
  drain?: { connectionsAtStart: number; connectionsLeft: number; waitedMs: number };
  survived: number; resets: number; errors: Histogram; unclear: number; predictedMoved: string[]; actualMoved: string[]; backMs: number; pathsBack: string[]; pathChanges: [number, string][];
}
export interface Restored { paths: string[]; allPaths: boolean; weights: Record<string, Record<string, number | null>>; allWeights: boolean; convergedMs: number; consistent: { ok: boolean; lines: string[] }; open: number; stillGoing: number }

export declare function openConnections(lab: ClusterLab, client: LabClient, o: { count: number; basePort: number; intervalMs?: number; concurrency?: number }): Promise<Opened>;
export declare function directorFailure(lab: ClusterLab, client: LabClient, o: { victim: Director; recipe: Recipe; count: number; basePort: number; intervalMs?: number; settleMs?: number }): Promise<DirectorFailure>;
export declare function reviveDirector(lab: ClusterLab, client: LabClient, victim: Director, keys: string[], o?: { settleMs?: number }): Promise<Revived>;
export declare function startMonitors(lab: ClusterLab, o?: { intervalMs?: number; timeoutMs?: number; rise?: number; fall?: number }): Promise<Monitors>;
export declare function stopMonitors(mon: Monitors | undefined): Promise<void>;
export declare function realServerFailure(lab: ClusterLab, client: LabClient, mon: Monitors, o: { victim: RealServer; keys: string[]; probes: number; probeBasePort: number; settleMs?: number }): Promise<RealServerFailure>;
export declare function gracefulDrain(lab: ClusterLab, client: LabClient, o: { director: Director; keys: string[]; settleMs?: number; deadlineMs?: number }): Promise<GracefulDrain>;
export declare function restore(lab: ClusterLab, client: LabClient, keys: string[], o?: { settleMs?: number }): Promise<Restored>;
