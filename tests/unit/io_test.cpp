// io/: whole-file reads with a limit and an errno to branch on, writes that
// never replace, copies into an open file, free space; every error one line
// naming the path.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <span>
#include <string>

#include "etcd_warden/io/disk.hpp"
#include "etcd_warden/io/error.hpp"
#include "etcd_warden/io/file.hpp"
#include "etcd_warden/io/unique_fd.hpp"
#include "support/result_printing.hpp"
#include "support/temp_dir.hpp"

using namespace etcd_warden;
using Catch::Matchers::Equals;
using etcd_warden::testing::read_file;
using etcd_warden::testing::TempDir;
using etcd_warden::testing::write_file;

TEST_CASE("io::read_file: the text, or an errno and a line naming the file", "[io]") {
  TempDir tmp;
  write_file(tmp / "small", "hello\n");
  const auto small = io::read_file(tmp / "small");
  REQUIRE(small);
  CHECK(*small == "hello\n");

  const auto missing = io::read_file(tmp / "missing");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().missing());
  CHECK(missing.error().message ==
        "open " + (tmp / "missing").string() + ": No such file or directory");
  CHECK(missing.error().reason() == "No such file or directory");

  const auto dir = io::read_file(tmp.path());
  REQUIRE_FALSE(dir);
  CHECK(dir.error().code == EISDIR);
  CHECK(dir.error().reason() == "a directory, not a regular file");
  CHECK_FALSE(dir.error().missing());

  // One byte over the limit fails; exactly at the limit reads.
  write_file(tmp / "big", std::string(100, 'x'));
  CHECK(io::read_file(tmp / "big", 100));
  const auto big = io::read_file(tmp / "big", 99);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == EFBIG);
  CHECK_THAT(big.error().message,
             Equals("read " + (tmp / "big").string() + ": larger than 99 bytes"));
}

// Kept inputs from the hostile-input probe (issue 18): a FIFO hung check-config
// (and froze the loop on SIGHUP as a password_file); /dev/zero aborted with
// bad_alloc before the limit existed.
TEST_CASE("io::read_file: a FIFO or a device is refused at once, never read", "[io]") {
  TempDir tmp;
  const auto fifo = tmp / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto from_fifo = io::read_file(fifo);  // no writer: a blocking open would never return
  REQUIRE_FALSE(from_fifo);
  CHECK(from_fifo.error().code == EINVAL);
  CHECK_THAT(from_fifo.error().message,
             Equals("read " + fifo.string() + ": a FIFO, not a regular file"));

  for (const char* device : {"/dev/zero", "/dev/urandom"}) {
    const auto read = io::read_file(device);
    REQUIRE_FALSE(read);
    CHECK(read.error().reason() == "a character device, not a regular file");
  }
  const auto null = io::read_file("/dev/null");  // `-c /dev/null`: no config
  REQUIRE(null);
  CHECK(null->empty());
  CHECK(io::read_file("/proc/self/status"));  // /proc files are regular: still read
}

TEST_CASE("io::rename_noreplace never replaces, write_all and fsync_dir report the path", "[io]") {
  TempDir tmp;
  io::UniqueFd fd(::open((tmp / "a").c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
  REQUIRE(fd.valid());
  const std::string text = "new";
  REQUIRE(io::write_all(fd.get(), std::as_bytes(std::span(text)), tmp / "a"));
  REQUIRE(fd.close_checked() == 0);
  write_file(tmp / "b", "old");

  const auto refused = io::rename_noreplace(tmp / "a", tmp / "b");
  REQUIRE_FALSE(refused);
  CHECK(refused.error() ==
        "rename " + (tmp / "a").string() + " -> " + (tmp / "b").string() + ": File exists");
  CHECK(read_file(tmp / "b") == "old");
  REQUIRE(io::rename_noreplace(tmp / "a", tmp / "c"));
  CHECK(read_file(tmp / "c") == "new");
  CHECK_FALSE(std::filesystem::exists(tmp / "a"));
  CHECK(io::fsync_dir(tmp.path()));

  // A descriptor open for reading only: the write fails and names the path.
  io::UniqueFd ro(::open((tmp / "c").c_str(), O_RDONLY | O_CLOEXEC));
  const auto wrote = io::write_all(ro.get(), std::as_bytes(std::span(text)), tmp / "c");
  REQUIRE_FALSE(wrote);
  CHECK(wrote.error() == "write " + (tmp / "c").string() + ": Bad file descriptor");
  CHECK(io::fsync_dir(tmp / "nope").error() ==
        "open " + (tmp / "nope").string() + ": No such file or directory");
}

TEST_CASE("io::copy_into copies all of a file into an open one", "[io]") {
  TempDir tmp;
  // Over three of copy_into's 1 MiB reads, with a short last one.
  std::string content;
  for (std::size_t i = 0; i < (std::size_t{3} << 20) + 12345; ++i) {
    content += static_cast<char>('a' + i % 26);
  }
  write_file(tmp / "from", content);
  io::UniqueFd out(::open((tmp / "to").c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
  REQUIRE(io::copy_into(tmp / "from", out.get(), tmp / "to"));
  REQUIRE(out.close_checked() == 0);
  CHECK(read_file(tmp / "to") == content);
  CHECK(io::copy_into(tmp / "missing", out.get(), tmp / "to").error() ==
        "open " + (tmp / "missing").string() + ": No such file or directory");
}

TEST_CASE("io::free_space: a number for a directory, a line naming a missing one", "[io]") {
  TempDir tmp;
  const auto free = io::free_space(tmp.path());
  REQUIRE(free);
  CHECK(free->value > 0);
  const auto missing = io::free_space(tmp / "nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == "statvfs " + (tmp / "nope").string() + ": No such file or directory");
}
