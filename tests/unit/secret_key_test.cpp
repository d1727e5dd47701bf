// auth/secret_key: the generated signing key file: created once with mode 0600, read back on the
// next start, refused when others can read it or when it is empty.
#include "auth/secret_key.hpp"

#include "core/random.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace {

namespace fs = std::filesystem;
using sig::auth::load_or_create_secret;

class SecretKey : public testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("sig-secret-test-" + sig::random_hex(8));
    fs::create_directories(dir);
    file = dir / "secret.key";
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  void write_file(const std::string& content, fs::perms mode) const {
    std::ofstream(file) << content;
    fs::permissions(file, mode, fs::perm_options::replace);
  }

  static unsigned mode_of(const fs::path& p) {
    struct stat info {};
    EXPECT_EQ(::stat(p.c_str(), &info), 0);
    return info.st_mode & 0777;
  }

  static std::string read_all(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir;
  fs::path file;
};

TEST_F(SecretKey, CreatesAnOwnerOnlyFileWithARandomKey) {
  const auto loaded = load_or_create_secret(file);
  EXPECT_TRUE(loaded.created);
  EXPECT_EQ(loaded.key.size(), 64u);  // 32 random bytes in hex
  EXPECT_EQ(loaded.key.find_first_not_of("0123456789abcdef"), std::string::npos) << loaded.key;
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_EQ(read_all(file), loaded.key + "\n");
}

TEST_F(SecretKey, SecondCallReadsTheSameKey) {
  const auto first = load_or_create_secret(file);
  const auto second = load_or_create_secret(file);
  EXPECT_TRUE(first.created);
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.key, first.key);
  EXPECT_EQ(mode_of(file), 0600u);
}

TEST_F(SecretKey, EveryNewFileGetsAnotherKey) {
  const auto first = load_or_create_secret(file);
  const auto second = load_or_create_secret(dir / "other.key");
  EXPECT_NE(first.key, second.key);
}

TEST_F(SecretKey, ReadsAnExistingKeyWithoutItsLineEnd) {
  write_file("operator-chosen-key\r\n", fs::perms::owner_read | fs::perms::owner_write);
  const auto loaded = load_or_create_secret(file);
  EXPECT_FALSE(loaded.created);
  EXPECT_EQ(loaded.key, "operator-chosen-key");
  const std::string content = read_all(file);
  EXPECT_EQ(content, "operator-chosen-key\r\n");  // never rewritten
}

TEST_F(SecretKey, RefusesAGroupReadableFile) {
  write_file("some-key\n", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_THROW(load_or_create_secret(file), std::runtime_error);
}

TEST_F(SecretKey, RefusesAWorldReadableFile) {
  write_file("some-key\n", fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  EXPECT_THROW(load_or_create_secret(file), std::runtime_error);
}

TEST_F(SecretKey, RefusesAnEmptyFile) {
  write_file("", fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_THROW(load_or_create_secret(file), std::runtime_error);
}

TEST_F(SecretKey, RefusesAWhitespaceOnlyFile) {
  write_file(" \n\r\n", fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_THROW(load_or_create_secret(file), std::runtime_error);
}

TEST_F(SecretKey, MissingDirectoryIsAnError) {
  EXPECT_THROW(load_or_create_secret(dir / "missing" / "secret.key"), std::runtime_error);
}

}  // namespace
