// TempDir: a fresh directory for a test, removed with everything in it at destruction.
//
// Created under /tmp rather than $TMPDIR so that Unix socket paths inside it fit in
// sun_path (108 bytes). Not thread-safe; one owner. Aborts the test binary if the
// directory cannot be created, since no test can do anything useful without it.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace iocd {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "iocd-test") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace iocd
