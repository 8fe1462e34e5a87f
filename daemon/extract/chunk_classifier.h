// Chunk classification for the extractor's first pass: up to 64 bytes of text turned into
// one bit mask per byte class the scanner needs (bit i describes byte i), so that token
// bounds and the byte classes a token holds come from ctz/clz and ANDs on those masks
// instead of byte loops (extract/extractor.cc, Collector::Scan).
//
// Implementations, chosen once per process at first use:
//   * AVX-512BW (64 bytes per vector), AVX2 (32 bytes) and SSSE3 (16 bytes), when the CPU
//     has them (__builtin_cpu_supports), byte classes looked up by nibble with pshufb;
//   * SSE2, the x86-64 baseline: range and equality compares, 16 bytes per vector;
//   * a byte-table loop on other CPUs (and as the reference the tests compare against).
// All give the same masks for the same bytes. SetChunkIsaForTesting() forces one, so tests
// can run the extractor over each path.
//
// Ownership: ClassifyChunk reads p[0, n) only (never a byte outside, whatever the ISA).
// Thread safety: ClassifyChunk is thread-safe. SetChunkIsaForTesting is for tests: it must
// not race with extraction on other threads.
// Errors: none; any byte value is classified.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace iocd {

// Bytes of a token between URLs (extractor.h: everything but whitespace, control and
// non-ASCII bytes, quotes, brackets, ',', ';', '|', '\', '^', '`').
constexpr bool IsExtractTokenByte(unsigned char c) {
  constexpr std::string_view kPunct = "._:/?#@%&=+~-$!*";
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         kPunct.find(static_cast<char>(c)) != std::string_view::npos;
}

// The byte classes of one chunk. Bits >= n (the chunk's length) are set in nontoken and
// clear in every other mask.
struct ChunkMasks {
  uint64_t nontoken;   // not IsExtractTokenByte
  uint64_t dotcolon;   // '.' or ':'
  uint64_t hex;        // 0-9 a-f A-F
  uint64_t equals;     // '='
  uint64_t pathstart;  // '/' or '?'
  uint64_t hash;       // '#'
  uint64_t colonat;    // ':' or '@'
  uint64_t digit;      // 0-9

  bool operator==(const ChunkMasks&) const = default;
};

constexpr size_t kChunk = 64;

// Makes *m the masks of its chunk's first n < kChunk bytes only, as if the chunk ended
// there: bits >= n set in nontoken and clear in every other mask.
inline void KeepFirstBytes(size_t n, ChunkMasks* m) {
  const uint64_t keep = (uint64_t{1} << n) - 1;
  m->nontoken |= ~keep;
  m->dotcolon &= keep;
  m->hex &= keep;
  m->equals &= keep;
  m->pathstart &= keep;
  m->hash &= keep;
  m->colonat &= keep;
  m->digit &= keep;
}

enum class ChunkIsa { kPortable, kSse2, kSsse3, kAvx2, kAvx512 };

// The masks of the n <= kChunk bytes at p.
void ClassifyChunk(const char* p, size_t n, ChunkMasks* out);

// The implementation ClassifyChunk uses now.
ChunkIsa ActiveChunkIsa();
// Whether this build and CPU can run isa.
bool ChunkIsaAvailable(ChunkIsa isa);
// Makes ClassifyChunk use isa from now on; false (nothing changed) if it is not available.
bool SetChunkIsaForTesting(ChunkIsa isa);
// The fastest available implementation (what ClassifyChunk starts with).
ChunkIsa BestChunkIsa();

}  // namespace iocd
