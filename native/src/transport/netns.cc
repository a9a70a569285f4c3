// Network namespace entry without forking.
//
// setns(fd, CLONE_NEWNET) changes the namespace of the calling thread only. A socket keeps the
// namespace it was created in for its whole life (net/core/sock.c sk_alloc takes a reference), so
// lvskit enters the namespace on a short-lived std::thread, creates the socket there and lets the
// thread exit: no thread of the process is left in the other namespace, and the event-loop thread
// never moves.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "transport/socket.h"

namespace lvskit {

int OpenNamespaceFd(const NetnsSpec& ns, SysError* err) {
  std::string path;
  switch (ns.kind) {
    case NetnsSpec::Kind::Current: path = "/proc/thread-self/ns/net"; break;
    case NetnsSpec::Kind::Path: path = ns.path; break;
    case NetnsSpec::Kind::Pid: path = "/proc/" + std::to_string(ns.pid) + "/ns/net"; break;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    err->err = errno;
    err->message = "cannot open " + ns.describe() + " (" + path + "): " + std::strerror(errno);
    if (errno == ENOENT && ns.kind == NetnsSpec::Kind::Path)
      err->message += "; does the namespace exist?";
  }
  return fd;
}

bool RunInNamespaceFd(int nsfd, void (*fn)(void*), void* arg, SysError* err) {
  int setnsErr = 0;
  std::thread t([&] {
    if (::setns(nsfd, CLONE_NEWNET) != 0) {
      setnsErr = errno;
      return;
    }
    fn(arg);
  });
  t.join();
  if (setnsErr) {
    err->err = setnsErr;
    err->message = std::string("setns(CLONE_NEWNET): ") + std::strerror(setnsErr) +
                   (setnsErr == EPERM ? " (entering a network namespace needs CAP_SYS_ADMIN)" : "");
    return false;
  }
  return true;
}

}  // namespace lvskit

// Named namespaces, compatible with iproute2's `ip netns add/del`: a bind mount of a namespace
// file on /run/netns/NAME, with /run/netns made a shared mount so other mount namespaces see it.
namespace lvskit {

namespace {
constexpr const char* kNetnsDir = "/run/netns";

bool MakeNetnsDirShared(SysError* err) {
  ::mkdir(kNetnsDir, 0755);
  // Already a shared mount point? Try; EINVAL means it is not a mount point yet.
  if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return true;
  if (errno != EINVAL) {
    err->err = errno;
    err->message = std::string("mount --make-shared /run/netns: ") + std::strerror(errno) +
                   (errno == EPERM ? " (creating a named namespace needs CAP_SYS_ADMIN)" : "");
    return false;
  }
  if (::mount(kNetnsDir, kNetnsDir, "none", MS_BIND | MS_REC, nullptr) != 0 ||
      ::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) != 0) {
    err->err = errno;
    err->message = std::string("mount --bind /run/netns: ") + std::strerror(errno) +
                   (errno == EPERM ? " (creating a named namespace needs CAP_SYS_ADMIN)" : "");
    return false;
  }
  return true;
}
}  // namespace

bool ValidNetnsName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  return name.find('/') == std::string::npos;
}

bool CreateNamedNetns(const std::string& name, SysError* err) {
  if (!MakeNetnsDirShared(err)) return false;
  std::string path = std::string(kNetnsDir) + "/" + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) {
    err->err = errno;
    err->message = "create " + path + ": " + std::strerror(errno) +
                   (errno == EEXIST ? " (a namespace of that name exists)" : "");
    return false;
  }
  ::close(fd);
  int e = 0;
  std::string what;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      e = errno;
      what = "unshare(CLONE_NEWNET)";
      return;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      e = errno;
      what = "bind mount of the new namespace on " + path;
    }
  });
  t.join();
  if (e) {
    ::unlink(path.c_str());
    err->err = e;
    err->message = what + ": " + std::strerror(e);
    return false;
  }
  return true;
}

bool DeleteNamedNetns(const std::string& name, SysError* err) {
  std::string path = std::string(kNetnsDir) + "/" + name;
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL) {
    err->err = errno;
    err->message = "umount " + path + ": " + std::strerror(errno);
    return false;
  }
  if (::unlink(path.c_str()) != 0) {
    err->err = errno;
    err->message = "unlink " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool ProbeNewNetns(SysError* err) {
  int e = 0;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) e = errno;
  });
  t.join();
  if (e) {
    err->err = e;
    err->message = std::string("unshare(CLONE_NEWNET): ") + std::strerror(e);
    return false;
  }
  return true;
}

}  // namespace lvskit
