#include "output/hit_fields.h"

#include <gtest/gtest.h>

namespace iocd {
namespace {

TEST(DeriveEnrichmentFieldsTest, WellKnownContextKeys) {
  iocd::hit::Enrichment e;
  auto add = [&](const char* k, const char* v) {
    auto* c = e.add_context();
    c->set_key(k);
    c->set_value(v);
  };
  add("Category", "");  // empty values are skipped
  add("malware", "Emotet");
  add("threat", "later");
  add("Reference", "https://ref.example/1");
  add("first_seen", "2024-05-01 10:00:00");
  add("last_seen", "1714557600");
  DeriveEnrichmentFields(&e);
  EXPECT_EQ(e.threat(), "Emotet");
  EXPECT_EQ(e.reference(), "https://ref.example/1");
  EXPECT_EQ(e.first_seen_unix_ms(), 1714557600000);
  EXPECT_EQ(e.last_seen_unix_ms(), 1714557600000);
}

TEST(DeriveEnrichmentFieldsTest, Dates) {
  int64_t ms = 0;
  EXPECT_TRUE(ParseContextDate("2024-05-01", &ms));
  EXPECT_EQ(ms, 1714521600000);
  EXPECT_TRUE(ParseContextDate("2024-05-01T12:00:00+02:00", &ms));
  EXPECT_EQ(ms, 1714557600000);
  EXPECT_TRUE(ParseContextDate("1714557600123", &ms));
  EXPECT_EQ(ms, 1714557600123);
  EXPECT_FALSE(ParseContextDate("yesterday", &ms));
  EXPECT_FALSE(ParseContextDate("2024-13-01", &ms));
  EXPECT_FALSE(ParseContextDate("2024-05-01T12:00", &ms));
}

}  // namespace
}  // namespace iocd
