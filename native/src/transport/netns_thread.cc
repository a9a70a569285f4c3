// setns(CLONE_NEWNET) changes the namespace of the calling thread only (kernel/nsproxy.c
// sys_setns -> commit_nsset on current). Sockets take the creating task's namespace at socket()
// time (net/socket.c __sock_create uses current->nsproxy->net_ns) and keep it, so a worker thread
// that entered a namespace creates every later socket there while the main thread stays put.
#include "transport/netns_thread.h"

#include <errno.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace lvskit {

bool OnMainThread() { return static_cast<pid_t>(::syscall(SYS_gettid)) == ::getpid(); }

bool EnterNamespaceOnThisThread(const NetnsSpec& ns, ino_t* inode, SysError* err) {
  if (OnMainThread()) {
    err->err = EBUSY;
    err->message =
        "refusing to move the main thread into another network namespace (call it on a worker "
        "thread: every later socket of the event loop would be created there)";
    return false;
  }
  int fd = OpenNamespaceFd(ns, err);
  if (fd < 0) return false;
  if (::setns(fd, CLONE_NEWNET) != 0) {
    int e = errno;
    ::close(fd);
    err->err = e;
    err->message = std::string("setns(CLONE_NEWNET) on ") + ns.describe() + ": " + std::strerror(e) +
                   (e == EPERM ? " (entering a network namespace needs CAP_SYS_ADMIN)" : "") +
                   (e == EINVAL ? " (is it a network namespace file?)" : "");
    return false;
  }
  ::close(fd);
  struct stat st;
  if (::stat("/proc/thread-self/ns/net", &st) != 0) {
    err->err = errno;
    err->message = std::string("stat /proc/thread-self/ns/net: ") + std::strerror(errno);
    return false;
  }
  *inode = st.st_ino;
  return true;
}

}  // namespace lvskit
