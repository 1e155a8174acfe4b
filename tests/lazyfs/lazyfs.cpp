// leanos_lazyfs: a lying disk for the power-cut tests of the real binary (#37), after
// LazyFS (the file system Jepsen cuts power with). A FUSE file system (libfuse3) passing
// everything through to a backing folder, that remembers for every file written through it
// how much of it was synced (fsync, fdatasync), and whether its name is durable (its folder
// synced since it was made). SIGUSR1 is the power cut: from then on every write, sync and
// change of a name fails with EIO, as on a machine that is gone. When it is unmounted after a
// cut it leaves the backing folder as the disk would be after it: each file cut back to what
// was synced (with --torn, half of them keep a random part of what followed, never more), and
// each file whose name was never made durable gone whole. It prints one line saying what it
// dropped. Not simulated, as in store/power_cut.h: a rename undone (a rename is durable at
// once) and a folder made (durable at once).
//
// Usage: leanos_lazyfs BACKING MOUNTPOINT [--seed N] [--torn]; it prints "ready" once mounted
// and runs until unmounted (umount MOUNTPOINT).
#define FUSE_USE_VERSION 31
#include <dirent.h>
#include <fcntl.h>
#include <fuse3/fuse.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>

namespace {

std::string backing;
std::atomic<bool> cut{false};

struct FileState {
  off_t synced = 0;     // bytes of it a sync made durable
  bool listed = true;   // its name is durable (made before, or its folder synced since)
};
std::mutex mu;
std::map<std::string, FileState> files;  // by path under the mount, "/a/b"; the files written through it

std::string real(const char* path) { return backing + path; }
std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}
off_t size_of(const std::string& path) {
  struct stat st {};
  return ::lstat(real(path.c_str()).c_str(), &st) == 0 ? st.st_size : 0;
}
// The state of a file about to change; a file not seen yet is durable as it is now.
FileState& state(const std::string& path) {
  auto it = files.find(path);
  if (it == files.end()) it = files.emplace(path, FileState{size_of(path), true}).first;
  return it->second;
}

int lfs_getattr(const char* path, struct stat* st, fuse_file_info* fi) {
  const int r = fi ? ::fstat(static_cast<int>(fi->fh), st) : ::lstat(real(path).c_str(), st);
  return r == 0 ? 0 : -errno;
}
int lfs_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*, fuse_readdir_flags) {
  DIR* d = ::opendir(real(path).c_str());
  if (!d) return -errno;
  while (dirent* e = ::readdir(d)) {
    struct stat st {};
    st.st_ino = e->d_ino;
    st.st_mode = static_cast<mode_t>(e->d_type) << 12;
    if (fill(buf, e->d_name, &st, 0, static_cast<fuse_fill_dir_flags>(0))) break;
  }
  ::closedir(d);
  return 0;
}
int lfs_mkdir(const char* path, mode_t mode) {
  if (cut) return -EIO;
  return ::mkdir(real(path).c_str(), mode) == 0 ? 0 : -errno;
}
int lfs_rmdir(const char* path) {
  if (cut) return -EIO;
  return ::rmdir(real(path).c_str()) == 0 ? 0 : -errno;
}
int lfs_unlink(const char* path) {
  if (cut) return -EIO;
  if (::unlink(real(path).c_str()) != 0) return -errno;
  std::lock_guard lock(mu);
  files.erase(path);
  return 0;
}
int lfs_rename(const char* from, const char* to, unsigned int flags) {
  if (cut) return -EIO;
  if (flags != 0) return -EINVAL;
  if (::rename(real(from).c_str(), real(to).c_str()) != 0) return -errno;
  std::lock_guard lock(mu);
  auto it = files.find(from);
  files.erase(to);
  if (it != files.end()) {
    files[to] = it->second;
    files.erase(it);
  }
  return 0;
}
int lfs_chmod(const char* path, mode_t mode, fuse_file_info*) {
  if (cut) return -EIO;
  return ::chmod(real(path).c_str(), mode) == 0 ? 0 : -errno;
}
int lfs_truncate(const char* path, off_t size, fuse_file_info* fi) {
  if (cut) return -EIO;
  std::lock_guard lock(mu);
  FileState& f = state(path);
  const int r = fi ? ::ftruncate(static_cast<int>(fi->fh), size) : ::truncate(real(path).c_str(), size);
  if (r != 0) return -errno;
  f.synced = std::min(f.synced, size);
  return 0;
}
int lfs_utimens(const char* path, const timespec tv[2], fuse_file_info*) {
  return ::utimensat(AT_FDCWD, real(path).c_str(), tv, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}
int lfs_open(const char* path, fuse_file_info* fi) {
  if (cut && (fi->flags & O_ACCMODE) != O_RDONLY) return -EIO;
  std::lock_guard lock(mu);
  if ((fi->flags & O_ACCMODE) != O_RDONLY) state(path);  // what it holds now is durable
  const int fd = ::open(real(path).c_str(), fi->flags & ~O_CREAT);
  if (fd < 0) return -errno;
  fi->fh = static_cast<std::uint64_t>(fd);
  if (fi->flags & O_TRUNC) files[path].synced = 0;
  return 0;
}
int lfs_create(const char* path, mode_t mode, fuse_file_info* fi) {
  if (cut) return -EIO;
  std::lock_guard lock(mu);
  const bool existed = ::access(real(path).c_str(), F_OK) == 0;
  if (existed) state(path);
  const int fd = ::open(real(path).c_str(), fi->flags | O_CREAT, mode);
  if (fd < 0) return -errno;
  fi->fh = static_cast<std::uint64_t>(fd);
  if (!existed) files[path] = FileState{0, false};
  else if (fi->flags & O_TRUNC) files[path].synced = 0;
  return 0;
}
int lfs_read(const char*, char* buf, size_t size, off_t off, fuse_file_info* fi) {
  const ssize_t n = ::pread(static_cast<int>(fi->fh), buf, size, off);
  return n >= 0 ? static_cast<int>(n) : -errno;
}
int lfs_write(const char* path, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  if (cut) return -EIO;
  {
    std::lock_guard lock(mu);
    state(path);
  }
  const ssize_t n = ::pwrite(static_cast<int>(fi->fh), buf, size, off);
  return n >= 0 ? static_cast<int>(n) : -errno;
}
int lfs_statfs(const char* path, struct statvfs* st) { return ::statvfs(real(path).c_str(), st) == 0 ? 0 : -errno; }
int lfs_flush(const char*, fuse_file_info* fi) {
  const int fd = ::dup(static_cast<int>(fi->fh));
  return fd >= 0 && ::close(fd) == 0 ? 0 : -errno;
}
int lfs_release(const char*, fuse_file_info* fi) {
  ::close(static_cast<int>(fi->fh));
  return 0;
}
// The lying part: a sync is what makes bytes durable here, and the disk beneath is not asked.
int lfs_fsync(const char* path, int, fuse_file_info* fi) {
  if (cut) return -EIO;
  struct stat st {};
  if (::fstat(static_cast<int>(fi->fh), &st) != 0) return -errno;
  std::lock_guard lock(mu);
  state(path).synced = st.st_size;
  return 0;
}
int lfs_fsyncdir(const char* path, int, fuse_file_info*) {
  if (cut) return -EIO;
  std::lock_guard lock(mu);
  for (auto& [name, f] : files)
    if (parent_of(name) == path) f.listed = true;
  return 0;
}
int lfs_fallocate(const char*, int mode, off_t off, off_t len, fuse_file_info* fi) {
  if (cut) return -EIO;
  return ::fallocate(static_cast<int>(fi->fh), mode, off, len) == 0 ? 0 : -errno;
}
int lfs_access(const char* path, int mask) { return ::access(real(path).c_str(), mask) == 0 ? 0 : -errno; }
int lfs_readlink(const char* path, char* buf, size_t size) {
  const ssize_t n = ::readlink(real(path).c_str(), buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}
void* lfs_init(fuse_conn_info*, fuse_config* cfg) {
  cfg->use_ino = 1;
  cfg->direct_io = 1;  // every write reaches this process: nothing waits in the kernel's cache of the mount
  cfg->kernel_cache = 0;
  cfg->attr_timeout = 0;
  cfg->entry_timeout = 0;
  cfg->negative_timeout = 0;
  std::printf("ready\n");
  std::fflush(stdout);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s BACKING MOUNTPOINT [--seed N] [--torn]\n", argv[0]);
    return 2;
  }
  backing = std::filesystem::absolute(argv[1]).lexically_normal().string();
  while (backing.size() > 1 && backing.back() == '/') backing.pop_back();
  std::uint64_t seed = 1;
  bool torn = false;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (std::strcmp(argv[i], "--torn") == 0) torn = true;
  }
  ::umask(0);
  struct sigaction cut_on{};
  cut_on.sa_handler = [](int) { cut = true; };
  ::sigaction(SIGUSR1, &cut_on, nullptr);

  fuse_operations ops{};
  ops.getattr = lfs_getattr;
  ops.readdir = lfs_readdir;
  ops.mkdir = lfs_mkdir;
  ops.rmdir = lfs_rmdir;
  ops.unlink = lfs_unlink;
  ops.rename = lfs_rename;
  ops.chmod = lfs_chmod;
  ops.truncate = lfs_truncate;
  ops.utimens = lfs_utimens;
  ops.open = lfs_open;
  ops.create = lfs_create;
  ops.read = lfs_read;
  ops.write = lfs_write;
  ops.statfs = lfs_statfs;
  ops.flush = lfs_flush;
  ops.release = lfs_release;
  ops.fsync = lfs_fsync;
  ops.fsyncdir = lfs_fsyncdir;
  ops.fallocate = lfs_fallocate;
  ops.access = lfs_access;
  ops.readlink = lfs_readlink;
  ops.init = lfs_init;
  std::string program = argv[0], mountpoint = argv[2];
  std::string foreground = "-f", options = "-o", what = "fsname=leanos_lazyfs,default_permissions";
  char* fuse_argv[] = {program.data(), mountpoint.data(), foreground.data(), options.data(), what.data(), nullptr};
  const int r = fuse_main(5, fuse_argv, &ops, nullptr);
  if (!cut) {
    std::printf("lazyfs: unmounted without a cut; nothing dropped\n");
    return r;
  }
  // The power went: the disk keeps what was synced.
  std::mt19937_64 rng(seed);
  std::uint64_t dropped = 0, removed = 0, files_cut = 0;
  for (const auto& [path, f] : files) {
    const std::string name = real(path.c_str());
    if (!f.listed) {
      dropped += static_cast<std::uint64_t>(size_of(path));
      if (::unlink(name.c_str()) == 0) ++removed;
      continue;
    }
    const off_t now = size_of(path);
    if (now <= f.synced) continue;
    const off_t keep = f.synced + (torn && rng() % 2 ? static_cast<off_t>(rng() % static_cast<std::uint64_t>(now - f.synced + 1)) : 0);
    if (::truncate(name.c_str(), keep) != 0) {
      std::perror(("lazyfs: truncate " + name).c_str());
      return 1;
    }
    dropped += static_cast<std::uint64_t>(now - keep);
    ++files_cut;
  }
  std::printf("lazyfs: power cut: %llu unsynced bytes dropped, %llu files cut back, %llu files never made durable removed\n",
              static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(files_cut),
              static_cast<unsigned long long>(removed));
  return r;
}
