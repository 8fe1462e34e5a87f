#include "common/format_syntax.h"

#include <gtest/gtest.h>

namespace iocd {
namespace {

TEST(LeefDelimiterTest, CharactersAndHexCodes) {
  EXPECT_EQ(*ParseLeefDelimiter("^"), '^');
  EXPECT_EQ(*ParseLeefDelimiter("x09"), '\t');
  EXPECT_EQ(*ParseLeefDelimiter("0x5E"), '^');
  EXPECT_EQ(ParseLeefDelimiter("X7c").status().message(),
            "\"X7c\": not usable as a delimiter (=, \\, |, letters, digits, line breaks, NUL and "
            "non-ASCII are not allowed)");  // '|'
  EXPECT_FALSE(ParseLeefDelimiter("=").ok());
  EXPECT_FALSE(ParseLeefDelimiter("a").ok());
  EXPECT_FALSE(ParseLeefDelimiter("x0a").ok());
  EXPECT_EQ(ParseLeefDelimiter("xZZ").status().message(), "\"xZZ\": bad hex code");
  EXPECT_EQ(ParseLeefDelimiter("tab").status().message(),
            "\"tab\": one character or its hex code (x09, 0x5E)");
  EXPECT_FALSE(ParseLeefDelimiter("").ok());
}

// "L:text" for a literal, "P:name" for a placeholder.
std::vector<std::string> Segments(std::string_view text) {
  auto parsed = ParseLineTemplate(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  std::vector<std::string> out;
  if (!parsed.ok()) return out;
  for (const auto& s : *parsed) out.push_back((s.placeholder ? "P:" : "L:") + s.text);
  return out;
}

TEST(LineTemplateTest, PlaceholdersLiteralsAndPercent) {
  EXPECT_EQ(Segments("%Date% hit %Observable%, 100%% sure"),
            (std::vector<std::string>{"P:Date", "L: hit ", "P:Observable", "L:, 100% sure"}));
  EXPECT_EQ(Segments("%context.threat-name_1%"), (std::vector<std::string>{"P:context.threat-name_1"}));
  EXPECT_EQ(Segments("plain"), (std::vector<std::string>{"L:plain"}));
  EXPECT_TRUE(Segments("").empty());
}

TEST(LineTemplateTest, ErrorsSayWhere) {
  EXPECT_EQ(ParseLineTemplate("ok %Date").status().message(),
            "'%' at offset 3 has no closing '%' (write %% for a literal %)");
  EXPECT_EQ(ParseLineTemplate("%a b%").status().message(), "bad placeholder name \"a b\" at offset 0");
  EXPECT_EQ(ParseLineTemplate("a\nb").status().message(), "must not contain a line break");
}

}  // namespace
}  // namespace iocd
