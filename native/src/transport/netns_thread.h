// Moving one thread (never the process) into a network namespace, for code that must create many
// sockets there over time: lvskit's health checks run Node's net/http/https/dgram on a worker
// thread that entered the director's namespace once (lib/health/worker.ts).
#pragma once
#include <sys/types.h>

#include "transport/socket.h"

namespace lvskit {

// True when the caller is the process's main thread (gettid() == getpid()): the thread that runs
// the Node event loop, whose namespace every other socket of the process must not inherit.
bool OnMainThread();

// setns(fd, CLONE_NEWNET) on the calling thread. Refuses (EPERM-free: err->err = EBUSY) on the main
// thread. On success *inode is the inode of the namespace the thread now lives in
// (/proc/thread-self/ns/net), which equals st_ino of the namespace file that was entered.
bool EnterNamespaceOnThisThread(const NetnsSpec& ns, ino_t* inode, SysError* err);

}  // namespace lvskit
