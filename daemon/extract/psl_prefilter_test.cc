#include "extract/psl_prefilter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace iocd {
namespace {

bool SurelyNot(const PslPrefilter& filter, const std::string& name) {
  return filter.SurelyNotPublicSuffix(name, FoldedNameHash(name));
}

TEST(PslPrefilterTest, SmallListSaysSurelyNotOnlyOffItsEntries) {
  const PslPrefilter filter(
      "// comment a.example\n"
      "com\n"
      "co.uk\n"
      "  *.kawasaki.jp  \r\n"
      "!city.kawasaki.jp\n"
      "\n");
  EXPECT_EQ(filter.entry_count(), 4u);
  EXPECT_EQ(filter.wildcard_count(), 1u);
  EXPECT_FALSE(SurelyNot(filter, "co.uk"));
  EXPECT_FALSE(SurelyNot(filter, "CO.uk"));            // any case
  EXPECT_FALSE(SurelyNot(filter, "kawasaki.jp"));      // a wildcard base is a suffix
  EXPECT_FALSE(SurelyNot(filter, "foo.kawasaki.jp"));  // under a wildcard
  EXPECT_FALSE(SurelyNot(filter, "city.kawasaki.jp"));  // exceptions are asked too
  EXPECT_FALSE(SurelyNot(filter, "xn--abc.com"));      // punycode: libpsl decides
  EXPECT_FALSE(SurelyNot(filter, "a--b.com"));
  EXPECT_FALSE(SurelyNot(filter, "b\xc3\xa4r.com"));  // non-ASCII
  EXPECT_FALSE(SurelyNot(filter, "nodot"));
  EXPECT_FALSE(SurelyNot(filter, ".co.uk"));  // libpsl skips a leading '.'
  EXPECT_FALSE(SurelyNot(filter, ".example.com"));
  EXPECT_TRUE(SurelyNot(filter, "example.com"));
  EXPECT_TRUE(SurelyNot(filter, "evil.co.uk"));
  EXPECT_TRUE(SurelyNot(filter, "a.foo.kawasaki.jp"));
  EXPECT_TRUE(SurelyNot(filter, "a.example"));  // comment words are not entries
  EXPECT_TRUE(SurelyNot(filter, "my-host.net"));
}

TEST(PslPrefilterTest, EmptyListSaysSurelyNotForEveryAsciiName) {
  const PslPrefilter filter("");
  EXPECT_EQ(filter.entry_count(), 0u);
  EXPECT_TRUE(SurelyNot(filter, "co.uk"));
}

// The scan for non-ASCII bytes, "--" and the first '.' at every position of names of
// 1-40 bytes (word and byte paths, every word boundary).
TEST(PslPrefilterTest, ScansEveryPositionOfEveryLength) {
  const PslPrefilter empty("");
  for (size_t size = 1; size <= 40; ++size) {
    const std::string plain(size, 'a');
    for (size_t at = 0; at < size; ++at) {
      std::string dotted = plain;
      dotted[at] = '.';
      EXPECT_EQ(SurelyNot(empty, dotted), at != 0) << dotted;  // libpsl skips a leading '.'
      EXPECT_FALSE(SurelyNot(empty, plain)) << plain;  // no dot
      for (const char* bad : {"--", "\x80", "\xff"}) {
        std::string tried = dotted;
        tried.replace(std::min(at + 1, size - 1), 0, bad);
        EXPECT_FALSE(SurelyNot(empty, tried)) << tried;
        tried = dotted;
        tried.replace(at == 0 ? 1 : 0, 0, bad);
        EXPECT_FALSE(SurelyNot(empty, tried)) << tried;
      }
      std::string one_dash = dotted;
      one_dash.insert(std::min(at + 1, size), "-");
      EXPECT_EQ(SurelyNot(empty, one_dash), at != 0) << one_dash;
      std::string split_dashes = dotted;  // "-a-": never two in a row
      split_dashes.insert(at, "-a-");
      EXPECT_TRUE(SurelyNot(empty, split_dashes)) << split_dashes;
    }
    // The first '.' picks the parent that is looked up as a wildcard base.
    const PslPrefilter wildcard("*.b.example\n");
    EXPECT_FALSE(SurelyNot(wildcard, plain + ".b.example")) << plain;
    EXPECT_TRUE(SurelyNot(wildcard, "x." + plain + ".b.example")) << plain;
    EXPECT_TRUE(SurelyNot(wildcard, plain + ".c.b.example")) << plain;
  }
}

// The built-in filter against libpsl on names made from every PSL rule:
// ExtractorTest.RegistrableDomainIsNotBeingAPublicSuffix.

}  // namespace
}  // namespace iocd
