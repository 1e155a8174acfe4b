// `.leanosignore` in process: gitignore's rules as git applies them to the paths of a tree.
#include <doctest/doctest.h>

#include <string>

#include "tools/bridge/tree.h"

using leanos::bridge::IgnoreRules;

TEST_CASE("a .leanosignore reads as gitignore: names at any depth, anchored paths, folders, negation, **") {
  const IgnoreRules r("# comment\n*.log\n!keep.log\n/tmp/\ndoc/*.md\nbuild/\nsecrets/**\na/**/b\n\\#hash\n  \n");
  CHECK(r.ignored("debug.log", false));
  CHECK(r.ignored("x/y/debug.log", false));
  CHECK_FALSE(r.ignored("keep.log", false));
  CHECK_FALSE(r.ignored("x/keep.log", false));
  CHECK(r.ignored("tmp/x.md", false));            // anchored: the root's tmp/
  CHECK_FALSE(r.ignored("deep/tmp/x.md", false));
  CHECK(r.ignored("doc/a.md", false));             // a slash inside anchors too
  CHECK_FALSE(r.ignored("x/doc/a.md", false));
  CHECK_FALSE(r.ignored("doc/sub/a.md", false));   // '*' stays within a name
  CHECK(r.ignored("x/build/out.bin", false));      // a folder, at any depth, and what it holds
  CHECK_FALSE(r.ignored("build", false));          // a file named build is not a folder
  CHECK(r.ignored("secrets/k/z.txt", false));
  CHECK(r.ignored("a/b", false));                  // ** is zero or more folders
  CHECK(r.ignored("a/x/y/b", false));
  CHECK_FALSE(r.ignored("x/a/b", false));
  CHECK(r.ignored("#hash", false));
  CHECK_FALSE(r.ignored("README.md", false));
  CHECK(IgnoreRules("").empty());
  CHECK_FALSE(IgnoreRules("").ignored("anything", false));
}

TEST_CASE("a rule full of ** against a deep path is decided in parts x parts steps, not exponential time") {
  std::string rule, path;
  for (int i = 0; i < 30; ++i) rule += "**/a/";
  rule += "nomatch";
  for (int i = 0; i < 200; ++i) path += "a/";
  path += "z";
  CHECK_FALSE(IgnoreRules(rule).ignored(path, false));  // 2^30 ways to try, one table to fill
}
