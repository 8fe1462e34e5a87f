#include "ingest/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace iocd {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  for (std::string s : {std::string(""), std::string("plain ascii line of text, long enough"),
                        std::string("caf\xC3\xA9"), std::string("\xE2\x82\xAC euro"),
                        std::string("\xF0\x9F\x98\x80 emoji"), std::string("\xEF\xBB\xBF" "BOM"),
                        std::string("\xED\x9F\xBF"), std::string("\xF4\x8F\xBF\xBF"),
                        std::string("nul\0inside", 10)}) {
    EXPECT_TRUE(IsValidUtf8(s)) << s;
  }
}

TEST(Utf8Test, RejectsMalformedBytes) {
  for (std::string s : {std::string("\x80"), std::string("abc\xFF"), std::string("\xC0\xAF"),  // overlong '/'
                        std::string("\xE0\x80\xAF"), std::string("\xED\xA0\x80"),           // surrogate
                        std::string("\xF4\x90\x80\x80"), std::string("\xF5\x80\x80\x80"),
                        std::string("caf\xC3"), std::string("\xE2\x82"), std::string("\xC3\x28"),
                        std::string("0123456789abcdef\xE2\x28\xA1")}) {
    EXPECT_FALSE(IsValidUtf8(s)) << s;
  }
}

// The ASCII fast paths test 32 and 8 bytes at once: a bad or a multibyte sequence at
// every offset of a long line, and one cut by the end, must be judged as byte by byte.
TEST(Utf8Test, EveryOffsetOfALongLine) {
  for (size_t at = 0; at < 100; ++at) {
    std::string bad(100, 'a');
    bad[at] = '\xFF';
    EXPECT_FALSE(IsValidUtf8(bad)) << at;
    std::string good(100, 'a');
    good.replace(at, 3, "\xE2\x82\xAC");
    good.resize(100);
    EXPECT_EQ(IsValidUtf8(good), at + 3 <= 100) << at;
  }
}

}  // namespace
}  // namespace iocd
