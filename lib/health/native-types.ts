// Native surface of native/src/binding/netns_thread_binding.cc, part of NativeAddon
// (lib/addon-types.ts). Used inside the health-check worker (lib/health/worker-source.ts), which
// loads the addon itself, and by the tests.

export interface NetnsThreadNative {
  /**
   * setns(CLONE_NEWNET) on the calling thread (a worker_thread: throws EBUSY on the main thread).
   * nsKind 1 = nsPath (a namespace file), 2 = nsPid's namespace. Returns the inode of the
   * namespace the thread is in now.
   */
  enterNetnsOnThisThread(nsKind: 1 | 2, nsPath: string, nsPid: number): { inode: number };
  /** gettid() === getpid(). */
  onMainThread(): boolean;
}
