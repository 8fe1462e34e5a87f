#include "extract/psl_prefilter.h"

#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <libpsl.h>
#include <openssl/evp.h>

namespace iocd {

PslPrefilter::PslPrefilter(std::string_view list_text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!list_text.empty()) {
    size_t end = list_text.find('\n');
    if (end == std::string_view::npos) end = list_text.size();
    std::string_view line = list_text.substr(0, end);
    list_text.remove_prefix(end == list_text.size() ? end : end + 1);
    size_t at = 0;
    while (at < line.size() && is_space(line[at])) ++at;
    if (line.substr(at).starts_with("//")) continue;
    while (at < line.size()) {
      size_t word_end = at;
      while (word_end < line.size() && !is_space(line[word_end])) ++word_end;
      std::string_view word = line.substr(at, word_end - at);
      if (word.starts_with("!")) word.remove_prefix(1);
      if (word.starts_with("*.")) {
        word.remove_prefix(2);
        wildcard_bases_.Add(FoldedNameHash(word));
        ++wildcard_count_;
      }
      entries_.Add(FoldedNameHash(word));
      ++entry_count_;
      at = word_end;
      while (at < line.size() && is_space(line[at])) ++at;
    }
  }
}

namespace {

// Lower-case hex SHA-1 of text, as psl_builtin_sha1sum() spells it; empty on failure.
std::string Sha1Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

std::unique_ptr<PslPrefilter> LoadForBuiltin() {
  if (psl_builtin() == nullptr) return nullptr;
  const char* path = psl_builtin_filename();
  const char* sha1 = psl_builtin_sha1sum();
  if (path == nullptr || *path == '\0' || sha1 == nullptr || *sha1 == '\0') return nullptr;
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad() || Sha1Hex(text) != sha1) return nullptr;
  return std::make_unique<PslPrefilter>(text);
}

}  // namespace

const PslPrefilter* PslPrefilter::ForBuiltin() {
  static const std::unique_ptr<PslPrefilter> filter = LoadForBuiltin();
  return filter.get();
}

}  // namespace iocd
