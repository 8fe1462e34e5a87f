#include "parse/syslog_framing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace iocd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Kind = SyslogFrameDecoder::Kind;

// A frame, copied out of the decoder. Messages print as their text, errors as "!reason".
struct Decoded {
  Kind kind;
  std::string text;
  uint64_t offset;
  bool operator==(const Decoded&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Decoded& d) {
  return os << (d.kind == Kind::kError ? "!" : "") << testing::PrintToString(d.text) << "@"
            << d.offset;
}

void Drain(SyslogFrameDecoder& decoder, bool at_end, std::vector<Decoded>* out) {
  for (;;) {
    SyslogFrameDecoder::Frame f = at_end ? decoder.Finish() : decoder.Next();
    if (f.kind == Kind::kNeedMore) return;
    out->push_back(
        Decoded{f.kind, std::string(f.kind == Kind::kError ? f.error : f.message), f.offset});
  }
}

// Feeds input in the given chunk sizes (the rest in one piece), draining after each.
std::vector<Decoded> DecodeChunked(std::string_view input, size_t max,
                                   const std::vector<size_t>& chunks) {
  SyslogFrameDecoder decoder(max);
  std::vector<Decoded> out;
  size_t pos = 0;
  for (size_t c : chunks) {
    size_t n = std::min(c, input.size() - pos);
    decoder.Append(input.substr(pos, n));
    pos += n;
    Drain(decoder, false, &out);
  }
  decoder.Append(input.substr(pos));
  Drain(decoder, false, &out);
  Drain(decoder, true, &out);
  return out;
}

std::vector<Decoded> DecodeWhole(std::string_view input, size_t max) {
  return DecodeChunked(input, max, {});
}

std::vector<Decoded> DecodeBytewise(std::string_view input, size_t max) {
  return DecodeChunked(input, max, std::vector<size_t>(input.size(), 1));
}

std::vector<Decoded> DecodeRandomChunks(std::string_view input, size_t max, std::mt19937& rng) {
  std::vector<size_t> chunks;
  std::uniform_int_distribution<size_t> size(0, 9);
  for (size_t total = 0; total < input.size();) {
    chunks.push_back(size(rng));
    total += chunks.back();
  }
  return DecodeChunked(input, max, chunks);
}

// Texts only: messages as themselves, errors as "!reason".
std::vector<std::string> Texts(const std::vector<Decoded>& frames) {
  std::vector<std::string> out;
  for (const Decoded& f : frames) out.push_back((f.kind == Kind::kError ? "!" : "") + f.text);
  return out;
}

using namespace std::string_literals;  // "a\0b"s keeps the NUL

struct Case {
  const char* name;
  size_t max;
  std::string input;
  std::vector<std::string> want;  // "!reason" for errors
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"empty", 100, "", {}},
      {"lf", 100, "a\nbc\n", {"a", "bc"}},
      {"crlf", 100, "a\r\nbc\r\n", {"a", "bc"}},
      {"one_cr_stripped", 100, "a\r\r\n", {"a\r"}},
      {"inner_cr_kept", 100, "a\rb\n", {"a\rb"}},
      {"blank_lines_skipped", 100, "\n\r\n\na\n\n\r\n", {"a"}},
      {"syslog_line",
       100,
       "<13>Jan  1 00:00:00 host app: hi\n",
       {"<13>Jan  1 00:00:00 host app: hi"}},
      {"octet", 100, "5 hello6 world!", {"hello", "world!"}},
      {"octet_with_lfs", 100, "11 line1\nline2", {"line1\nline2"}},
      {"octet_keeps_crlf", 100, "4 ab\r\n", {"ab\r\n"}},
      {"octet_then_lf_trailer", 100, "5 hello\n5 world\n", {"hello", "world"}},
      {"mixed",
       100,
       "5 hello\nplain line\n3 abc<13>x\r\n2 ok",
       {"hello", "plain line", "abc", "<13>x", "ok"}},
      {"digits_without_space", 100, "2024-01-01 host msg\n", {"2024-01-01 host msg"}},
      {"digits_then_lf", 100, "42\n7\n", {"42", "7"}},
      {"ten_digits_is_a_line", 100, "1704067200 epoch line\n", {"1704067200 epoch line"}},
      {"nine_digits_is_a_count", 100, "123456789 x\nok\n", {"!message exceeds 100 bytes"}},
      {"nul_terminator", 100, "a\0b\0"s, {"a", "b"}},
      {"cr_nul", 100, "a\r\0"s, {"a"}},
      {"nul_then_lf", 100, "a\0\nb\n"s, {"a", "b"}},
      {"nul_inside_octet_frame", 100, "3 a\0b"s, {"a\0b"s}},
      {"leading_zero", 100, "0 abc\nnext\n", {"!octet count has a leading zero", "next"}},
      {"leading_zero_multi", 100, "012 abc\0next\n"s, {"!octet count has a leading zero", "next"}},
      {"exactly_max", 5, "abcde\nabcde\r\n", {"abcde", "abcde"}},
      {"oversized_lf", 5, "abcdef\nok\n", {"!message exceeds 5 bytes", "ok"}},
      {"oversized_lf_long",
       5,
       std::string(1000, 'x') + "\nok\n",
       {"!message exceeds 5 bytes", "ok"}},
      {"oversized_lf_cr_not_before_lf", 5, "abcde\rx\nok\n", {"!message exceeds 5 bytes", "ok"}},
      {"oversized_nul", 5, "abcdefgh\0ok\0"s, {"!message exceeds 5 bytes", "ok"}},
      {"oversized_octet", 5, "8 abcdefgh3 abc", {"!message exceeds 5 bytes", "abc"}},
      {"oversized_octet_with_lfs", 5, "8 ab\ncd\nef2 ok", {"!message exceeds 5 bytes", "ok"}},
      {"octet_exactly_max", 5, "5 abcde", {"abcde"}},
      {"finish_partial_line", 100, "a\nlast", {"a", "last"}},
      {"finish_partial_line_cr", 100, "a\nlast\r", {"a", "last"}},
      {"finish_lone_cr", 100, "a\n\r", {"a"}},
      {"finish_digits_only", 100, "a\n123", {"a", "123"}},
      {"finish_partial_line_at_max_with_cr", 5, "abcde\r", {"abcde"}},
      {"finish_incomplete_octet",
       100,
       "a\n10 abc",
       {"a", "!connection closed inside an octet-counted frame: got 3 of 10 bytes"}},
      {"finish_octet_header_only",
       100,
       "5 ",
       {"!connection closed inside an octet-counted frame: got 0 of 5 bytes"}},
      {"finish_inside_oversized_octet", 5, "9 abc", {"!message exceeds 5 bytes"}},
      {"finish_inside_oversized_line", 5, "abcdefghij", {"!message exceeds 5 bytes"}},
  };
  return cases;
}

class FramingTableTest : public testing::TestWithParam<Case> {};

TEST_P(FramingTableTest, DecodesWholeInput) {
  const Case& c = GetParam();
  EXPECT_EQ(Texts(DecodeWhole(c.input, c.max)), c.want);
}

TEST_P(FramingTableTest, ChunkingDoesNotChangeTheResult) {
  const Case& c = GetParam();
  const std::vector<Decoded> whole = DecodeWhole(c.input, c.max);
  EXPECT_EQ(DecodeBytewise(c.input, c.max), whole);
  std::mt19937 rng(42);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(DecodeRandomChunks(c.input, c.max, rng), whole);
}

INSTANTIATE_TEST_SUITE_P(Cases, FramingTableTest, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

TEST(SyslogFrameDecoderTest, ReportsStreamOffsets) {
  EXPECT_THAT(DecodeWhole("5 hello\nab\nxxxxxxxxx\n3 abc", 5),
              ElementsAre(Decoded{Kind::kMessage, "hello", 0}, Decoded{Kind::kMessage, "ab", 8},
                          Decoded{Kind::kError, "message exceeds 5 bytes", 11},
                          Decoded{Kind::kMessage, "abc", 21}));
}

TEST(SyslogFrameDecoderTest, NeedMoreUntilTheFrameIsComplete) {
  SyslogFrameDecoder decoder(100);
  EXPECT_EQ(decoder.Next().kind, Kind::kNeedMore);
  decoder.Append("12");
  EXPECT_EQ(decoder.Next().kind, Kind::kNeedMore);  // count or line: not known yet
  decoder.Append(" abc");
  EXPECT_EQ(decoder.Next().kind, Kind::kNeedMore);
  decoder.Append("defghi\nkl");
  SyslogFrameDecoder::Frame f = decoder.Next();
  ASSERT_EQ(f.kind, Kind::kMessage);
  EXPECT_EQ(f.message, "abcdefghi\nkl");
  EXPECT_EQ(decoder.Next().kind, Kind::kNeedMore);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

// The stream listener hands on every message of one Append() together, as views: they
// must survive the rest of that Append()'s frames, discarded ones and Finish() included.
TEST(SyslogFrameDecoderTest, MessageViewsLastUntilTheNextAppend) {
  for (const std::string tail : {"0 bad\n", "xxxxxxxxxxxxxxxxxxxx\n", "99 cut", "5 abc", "xxxxxxxxxxxxxxxxx"}) {
    SyslogFrameDecoder decoder(10);
    decoder.Append("ab\n2 cdef\n" + tail);
    std::vector<std::string_view> views;
    for (;;) {
      SyslogFrameDecoder::Frame f = decoder.Next();
      if (f.kind == Kind::kNeedMore) f = decoder.Finish();
      if (f.kind == Kind::kNeedMore) break;
      if (f.kind == Kind::kMessage) views.push_back(f.message);
    }
    EXPECT_THAT(views, ElementsAre("ab", "cd", "ef")) << tail;
    EXPECT_EQ(decoder.buffered_bytes(), 0u) << tail;
  }
}

TEST(SyslogFrameDecoderTest, FinishWithNothingLeftIsNeedMore) {
  SyslogFrameDecoder decoder(100);
  decoder.Append("a\n");
  EXPECT_EQ(decoder.Next().message, "a");
  EXPECT_EQ(decoder.Next().kind, Kind::kNeedMore);
  EXPECT_EQ(decoder.Finish().kind, Kind::kNeedMore);
}

TEST(SyslogFrameDecoderTest, FinishReturnsTheLastLineOnce) {
  SyslogFrameDecoder decoder(100);
  decoder.Append("a\nlast");
  EXPECT_EQ(decoder.Next().message, "a");
  EXPECT_EQ(decoder.Next().kind, Kind::kNeedMore);
  SyslogFrameDecoder::Frame f = decoder.Finish();
  ASSERT_EQ(f.kind, Kind::kMessage);
  EXPECT_EQ(f.message, "last");
  EXPECT_EQ(f.offset, 2u);
  EXPECT_EQ(decoder.Finish().kind, Kind::kNeedMore);
}

TEST(SyslogFrameDecoderTest, CountsFrames) {
  SyslogFrameDecoder decoder(5);
  const std::string input = "a\nabcdefgh\n0 x\n9 abcdefghi2 ok4 abc";
  decoder.Append(input);
  std::vector<Decoded> out;
  Drain(decoder, false, &out);
  Drain(decoder, true, &out);
  EXPECT_EQ(decoder.counters().bytes, input.size());
  EXPECT_EQ(decoder.counters().messages, 2u);
  EXPECT_EQ(decoder.counters().oversized, 2u);
  EXPECT_EQ(decoder.counters().bad_octet_count, 1u);
  EXPECT_EQ(decoder.counters().incomplete_at_close, 1u);
}

// Streams drawn from the bytes that matter to framing, with a tiny limit so every path
// (counts, leading zeros, oversize in both framings, CR at the limit) is hit often.
TEST(SyslogFrameDecoderTest, RandomStreamsDecodeTheSameInAnyChunking) {
  const std::string alphabet = "0123 \n\r\0ab<"s;
  std::mt19937 rng(20240101);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<size_t> length(0, 60);
  std::uniform_int_distribution<size_t> max(1, 8);
  for (int i = 0; i < 2000; ++i) {
    std::string input;
    for (size_t n = length(rng); n > 0; --n) input.push_back(alphabet[pick(rng)]);
    size_t m = max(rng);
    const std::vector<Decoded> whole = DecodeWhole(input, m);
    ASSERT_EQ(DecodeBytewise(input, m), whole) << testing::PrintToString(input) << " max " << m;
    ASSERT_EQ(DecodeRandomChunks(input, m, rng), whole)
        << testing::PrintToString(input) << " max " << m;
    for (const Decoded& d : whole) {
      if (d.kind == Kind::kMessage) {
        EXPECT_LE(d.text.size(), m);
      }
    }
  }
}

TEST(SyslogFrameDecoderTest, GarbageWithoutLfKeepsMemoryBounded) {
  constexpr size_t kMax = 1 << 20;
  constexpr size_t kBound = kMax + SyslogFrameDecoder::kMaxFrameOverhead;
  SyslogFrameDecoder decoder(kMax);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(1, 255);
  std::string chunk(64 * 1024, 'x');
  std::vector<Decoded> out;
  size_t max_buffered = 0;
  for (size_t sent = 0; sent < 10 * 1024 * 1024; sent += chunk.size()) {
    for (char& c : chunk) {
      c = static_cast<char>(byte(rng));
      if (c == '\n') c = 'n';
    }
    if (sent == 0) chunk[0] = '<';  // not a digit: a line, not an octet count
    decoder.Append(chunk);
    EXPECT_LE(decoder.buffered_bytes(), kBound + chunk.size());
    Drain(decoder, false, &out);
    max_buffered = std::max(max_buffered, decoder.buffered_bytes());
  }
  EXPECT_LE(max_buffered, kBound);
  // Random bytes include NULs, which end frames; whatever they cut, no frame is longer
  // than the limit and the stream still decodes after the garbage.
  for (const Decoded& d : out) EXPECT_LE(d.text.size(), kMax);
  decoder.Append("\n<13>good\n");
  out.clear();
  Drain(decoder, false, &out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), (Decoded{Kind::kMessage, "<13>good", decoder.counters().bytes - 9}));
}

TEST(SyslogFrameDecoderTest, LongLineIsDroppedAsItArrives) {
  constexpr size_t kMax = 1 << 20;
  SyslogFrameDecoder decoder(kMax);
  const std::string chunk(64 * 1024, 'x');
  std::vector<Decoded> out;
  for (int i = 0; i < 160; ++i) {  // 10 MiB
    decoder.Append(chunk);
    Drain(decoder, false, &out);
    EXPECT_LE(decoder.buffered_bytes(), kMax + SyslogFrameDecoder::kMaxFrameOverhead);
  }
  EXPECT_EQ(decoder.buffered_bytes(), 0u);  // past the limit: discarding, nothing kept
  decoder.Append("xx\nok\n");
  Drain(decoder, false, &out);
  EXPECT_THAT(Texts(out), ElementsAre("!message exceeds 1048576 bytes", "ok"));
  EXPECT_EQ(decoder.counters().oversized, 1u);
}

TEST(SyslogFrameDecoderTest, HugeOctetCountIsSkippedWithoutBuffering) {
  SyslogFrameDecoder decoder(1 << 20);
  std::vector<Decoded> out;
  decoder.Append("999999999 ");
  Drain(decoder, false, &out);
  const std::string chunk(64 * 1024, '\n');
  for (int i = 0; i < 160; ++i) {
    decoder.Append(chunk);
    Drain(decoder, false, &out);
    EXPECT_EQ(decoder.buffered_bytes(), 0u);
  }
  Drain(decoder, true, &out);
  EXPECT_THAT(Texts(out), ElementsAre("!message exceeds 1048576 bytes"));
}

TEST(SyslogFrameDecoderTest, ZeroMaxIsTreatedAsOne) {
  EXPECT_THAT(Texts(DecodeWhole("a\nbc\n", 0)), ElementsAre("a", "!message exceeds 1 bytes"));
}

TEST(SyslogFrameDecoderTest, NothingDecodedFromNothing) {
  EXPECT_THAT(DecodeWhole("", 10), IsEmpty());
  EXPECT_THAT(DecodeWhole("\n\n\r\n", 10), IsEmpty());
}

}  // namespace
}  // namespace iocd
