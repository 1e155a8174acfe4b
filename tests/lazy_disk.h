// The lying disk of the power-cut tests (tests/lazyfs): a FUSE file system over a folder whose
// unsynced writes a power cut takes back. Needs LEANOS_LAZYFS (its binary) defined.
#pragma once

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "tests/support.h"

namespace leanos::test {

// The lying disk: BACKING seen through MOUNT; cut() is the power cut, unmount() what is left.
class LazyFs {
 public:
  LazyFs(const std::string& backing, const std::string& mount, std::uint64_t seed, bool torn) : mount_(mount) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      const std::string s = std::to_string(seed);
      if (torn) execl(LEANOS_LAZYFS, LEANOS_LAZYFS, backing.c_str(), mount.c_str(), "--seed", s.c_str(), "--torn", static_cast<char*>(nullptr));
      else execl(LEANOS_LAZYFS, LEANOS_LAZYFS, backing.c_str(), mount.c_str(), "--seed", s.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
    char line[256] = {0};
    REQUIRE(std::fgets(line, sizeof line, out_) != nullptr);  // "ready": mounted
    REQUIRE(std::string(line) == "ready\n");
  }
  ~LazyFs() {
    if (pid_ > 0) {
      ::umount2(mount_.c_str(), MNT_DETACH);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      std::fclose(out_);
    }
  }
  void cut() { REQUIRE(kill(pid_, SIGUSR1) == 0); }
  // Unmounts (nothing may use the mount any more), waits for the disk to settle what it kept.
  std::string unmount() {
    REQUIRE_MESSAGE(::umount2(mount_.c_str(), 0) == 0, "umount " << mount_ << ": " << std::strerror(errno));
    std::string said;
    char line[512];
    while (std::fgets(line, sizeof line, out_)) said += line;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    std::fclose(out_);
    CHECK(WIFEXITED(status));
    return said;
  }

 private:
  std::string mount_;
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

// Whether this machine lets the test mount a FUSE file system (root, /dev/fuse, and a
// container allowed to mount): tried once, with the lying disk itself.
inline bool fuse_usable() {
  static const bool usable = [] {
    if (geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0) return false;
    TempDir t;
    const std::string backing = t.sub("probe-disk"), mount = t.sub("probe-mount");
    std::filesystem::create_directories(backing);
    std::filesystem::create_directories(mount);
    int fds[2];
    if (pipe(fds) != 0) return false;
    const pid_t pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      execl(LEANOS_LAZYFS, LEANOS_LAZYFS, backing.c_str(), mount.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[256] = {0};
    const bool ready = std::fgets(line, sizeof line, out) != nullptr && std::string(line) == "ready\n";
    if (ready) ::umount2(mount.c_str(), 0);
    while (std::fgets(line, sizeof line, out)) {
    }
    std::fclose(out);
    waitpid(pid, nullptr, 0);
    return ready;
  }();
  return usable;
}

}  // namespace leanos::test
