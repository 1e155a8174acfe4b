// A power cut for the store's tests and `leanos bench crash`: a RocksDB file system that writes through to the
// machine's but remembers, for every file written, how much of it was synced. cut() is the
// moment the power goes: from then on every write and sync fails. After the store is gone,
// lose_unsynced() leaves each file as a disk would after the cut — its synced bytes, plus
// (for a torn write) a random part of what followed them, never more. RocksDB's own
// FaultInjectionTestFS does this, but Debian's librocksdb-dev does not ship it.
//
// A file made since its directory was last synced is not in the directory after the cut:
// it is gone whole. What it does not simulate: a rename undone because its directory was not
// synced (a rename is taken as durable at once; RocksDB syncs the directory after each).
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>

namespace leanos::store {

class PowerCutFs final : public rocksdb::FileSystemWrapper {
 public:
  PowerCutFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "PowerCutFs"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options, std::unique_ptr<rocksdb::FSWritableFile>* out,
                                    rocksdb::IODebugContext* dbg) override {
    if (cut_) return dead();
    auto s = target()->NewWritableFile(name, options, out, dbg);
    if (s.ok()) {
      {
        std::lock_guard lock(mu_);
        files_[name] = {0, 0, false};  // its directory entry waits for the directory's sync
      }
      *out = std::make_unique<File>(std::move(*out), this, name);
    }
    return s;
  }
  rocksdb::IOStatus NewRandomAccessFile(const std::string& name, const rocksdb::FileOptions& options,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* out, rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewRandomAccessFile(name, options, out, dbg);
    if (s.ok()) *out = std::make_unique<ReadFile>(std::move(*out), this);
    return s;
  }
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options, std::unique_ptr<rocksdb::FSDirectory>* out,
                                 rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewDirectory(name, options, out, dbg);
    if (s.ok()) *out = std::make_unique<Directory>(std::move(*out), this, name);
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* out, rocksdb::IODebugContext* dbg) override {
    if (cut_) return dead();
    std::error_code ec;
    const bool existed = std::filesystem::exists(name, ec);
    auto s = target()->ReopenWritableFile(name, options, out, dbg);
    if (s.ok()) {
      const auto size = std::filesystem::file_size(name, ec);
      {
        std::lock_guard lock(mu_);
        // What was there is on the disk already; a file made here waits for its directory's sync.
        files_[name] = {ec ? 0 : size, ec ? 0 : size, existed};
      }
      *out = std::make_unique<File>(std::move(*out), this, name);
    }
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string&, const std::string&, const rocksdb::FileOptions&, std::unique_ptr<rocksdb::FSWritableFile>*,
                                      rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("ReuseWritableFile");  // RocksDB then writes a new file
  }
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    if (cut_) return dead();
    auto s = target()->RenameFile(from, to, options, dbg);
    if (s.ok()) {
      std::lock_guard lock(mu_);
      if (auto it = files_.find(from); it != files_.end()) {
        files_[to] = it->second;
        files_.erase(it);
      } else {
        files_.erase(to);
      }
    }
    return s;
  }
  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (cut_) return dead();
    auto s = target()->DeleteFile(name, options, dbg);
    if (s.ok()) {
      std::lock_guard lock(mu_);
      files_.erase(name);
    }
    return s;
  }

  // The power goes: nothing written from now on reaches the disk.
  void cut() { cut_ = true; }
  // Reads of the files opened for random access (the table files) fail with EIO, or work again.
  void fail_reads(bool fail) { reads_fail_ = fail; }
  // The next `n` syncs fail with an I/O error (EIO from fsync), the disk otherwise fine.
  void fail_syncs(int n) { failing_syncs_ = n; }
  // The disk as the cut left it: each file its synced bytes, and with `torn`, a random part
  // of the unsynced rest (a write the cut tore). Returns how many bytes were lost.
  std::uint64_t lose_unsynced(std::mt19937_64& rng, bool torn) {
    std::lock_guard lock(mu_);
    std::uint64_t lost = 0;
    for (const auto& [name, f] : files_) {
      std::error_code ec;
      if (!f.listed) {  // never in a synced directory: the file is not there at all
        if (std::filesystem::remove(name, ec)) lost += f.written;
        continue;
      }
      if (f.written <= f.synced) continue;
      std::uint64_t keep = f.synced;
      if (torn) keep += rng() % (f.written - f.synced + 1);
      std::filesystem::resize_file(name, keep, ec);
      if (!ec) lost += f.written - keep;
    }
    return lost;
  }

 private:
  struct Tracked {
    std::uint64_t written = 0, synced = 0;
    bool listed = true;  // its directory was synced since the file was made
  };

  static rocksdb::IOStatus read_error() { return rocksdb::IOStatus::IOError("pread: Input/output error (injected)"); }

  class ReadFile final : public rocksdb::FSRandomAccessFileOwnerWrapper {
   public:
    ReadFile(std::unique_ptr<rocksdb::FSRandomAccessFile> target, PowerCutFs* fs) : FSRandomAccessFileOwnerWrapper(std::move(target)), fs_(fs) {}
    rocksdb::IOStatus Read(uint64_t offset, size_t n, const rocksdb::IOOptions& options, rocksdb::Slice* result, char* scratch,
                           rocksdb::IODebugContext* dbg) const override {
      if (fs_->reads_fail_) return read_error();
      return target()->Read(offset, n, options, result, scratch, dbg);
    }
    rocksdb::IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t n, const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (fs_->reads_fail_) return read_error();
      return target()->MultiRead(reqs, n, options, dbg);
    }
    rocksdb::IOStatus ReadAsync(rocksdb::FSReadRequest& req, const rocksdb::IOOptions& options,
                                std::function<void(const rocksdb::FSReadRequest&, void*)> cb, void* cb_arg, void** handle,
                                rocksdb::IOHandleDeleter* del, rocksdb::IODebugContext* dbg) override {
      if (fs_->reads_fail_) return read_error();
      return target()->ReadAsync(req, options, std::move(cb), cb_arg, handle, del, dbg);
    }

   private:
    PowerCutFs* fs_;
  };

  class Directory final : public rocksdb::FSDirectoryWrapper {
   public:
    Directory(std::unique_ptr<rocksdb::FSDirectory> target, PowerCutFs* fs, std::string name)
        : FSDirectoryWrapper(std::move(target)), fs_(fs), name_(std::move(name)) {}
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (fs_->cut_) return dead();
      auto s = FSDirectoryWrapper::Fsync(options, dbg);
      if (s.ok()) fs_->directory_synced(name_);
      return s;
    }
    rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg,
                                          const rocksdb::DirFsyncOptions& dir_options) override {
      if (fs_->cut_) return dead();
      auto s = FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
      if (s.ok()) fs_->directory_synced(name_);
      return s;
    }

   private:
    PowerCutFs* fs_;
    std::string name_;
  };
  static rocksdb::IOStatus dead() { return rocksdb::IOStatus::IOError("the power is cut"); }

  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> target, PowerCutFs* fs, std::string name)
        : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), name_(std::move(name)) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (fs_->cut_) return dead();
      auto s = target()->Append(data, options, dbg);
      if (s.ok()) fs_->grew(name_, data.size());
      return s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options, const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->cut_) return dead();
      auto s = target()->Append(data, options, info, dbg);
      if (s.ok()) fs_->grew(name_, data.size());
      return s;
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
      return rocksdb::IOStatus::NotSupported("PositionedAppend");
    }
    rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (fs_->cut_) return dead();
      auto s = target()->Truncate(size, options, dbg);
      if (s.ok()) fs_->truncated(name_, size);
      return s;
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (fs_->cut_) return dead();
      if (fs_->sync_fails()) return rocksdb::IOStatus::IOError("fsync: Input/output error (injected)");
      auto s = target()->Sync(options, dbg);
      if (s.ok()) fs_->synced(name_);
      return s;
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (fs_->cut_) return dead();
      if (fs_->sync_fails()) return rocksdb::IOStatus::IOError("fsync: Input/output error (injected)");
      auto s = target()->Fsync(options, dbg);
      if (s.ok()) fs_->synced(name_);
      return s;
    }
    // A range written back early is not a promise that it survives: nothing changes.
    rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
      return fs_->cut_ ? dead() : rocksdb::IOStatus::OK();
    }
    rocksdb::IOStatus Flush(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (fs_->cut_) return dead();
      return target()->Flush(options, dbg);
    }
    rocksdb::IOStatus Close(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      return target()->Close(options, dbg);  // closing writes nothing the cut keeps
    }

   private:
    PowerCutFs* fs_;
    std::string name_;
  };

  void directory_synced(const std::string& dir) {
    const auto parent = std::filesystem::path(dir).lexically_normal();
    std::lock_guard lock(mu_);
    for (auto& [name, f] : files_)
      if (std::filesystem::path(name).parent_path().lexically_normal() == parent) f.listed = true;
  }
  void grew(const std::string& name, std::uint64_t n) {
    std::lock_guard lock(mu_);
    files_[name].written += n;
  }
  void synced(const std::string& name) {
    std::lock_guard lock(mu_);
    auto& f = files_[name];
    f.synced = f.written;
  }
  void truncated(const std::string& name, std::uint64_t size) {
    std::lock_guard lock(mu_);
    auto& f = files_[name];
    f.written = size;
    f.synced = std::min(f.synced, size);
  }

  bool sync_fails() {
    for (int n = failing_syncs_; n > 0;)
      if (failing_syncs_.compare_exchange_weak(n, n - 1)) return true;
    return false;
  }

  std::atomic<bool> cut_{false};
  std::atomic<int> failing_syncs_{0};
  std::atomic<bool> reads_fail_{false};
  std::mutex mu_;
  std::map<std::string, Tracked> files_;
};

}  // namespace leanos::store
