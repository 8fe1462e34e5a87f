// ParsedEvent: one syslog message taken apart into a syslog header and named fields.
//
// The parsers (syslog_header.h, body_parsers.h, event_parser.h) fill it; the field-aware
// extractor (extract/field_extractor.h) reads it. It is a plain record with an arena, built
// to be reused: EventParser::Parse() calls Clear() first, which keeps the arena's memory,
// so a long-lived event per thread parses messages without allocating in the steady state.
//
// Ownership: every string_view in a ParsedEvent points either
//   * into the message passed to the parser (the common case: a value that needed no
//     unescaping), or
//   * into the event's own arena (unescaped values, JSON strings, dotted JSON paths,
//     "sd.<id>.<param>" names).
// So views are valid while BOTH the message bytes and the event are alive and until the
// event's next Clear()/Parse(). Copy what must outlive that (e.g. into a Hit).
// Thread safety: none; one event per thread.
// Errors: none here; see the parsers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace iocd {

// Bump allocator for strings. Views it returns stay valid until Clear() (blocks never
// move). Clear() keeps the first block for reuse and frees the others.
class StringArena {
 public:
  StringArena() = default;
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;

  // Reserves n bytes; the caller writes them before the view is used.
  char* Allocate(size_t n);
  std::string_view Copy(std::string_view s);
  // a + sep + b, in one allocation ("tls" "." "sni").
  std::string_view Join(std::string_view a, char sep, std::string_view b);
  void Clear();
  // Bytes handed out since the last Clear() (for tests and metrics).
  size_t used() const { return used_; }

 private:
  static constexpr size_t kBlockBytes = 4096;
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  std::vector<Block> blocks_;
  size_t pos_ = 0;  // next free byte in blocks_.back()
  size_t used_ = 0;
};

// Which syslog header the message carried.
enum class SyslogFormat : uint8_t { kNone, kRfc3164, kRfc5424 };
// The format the body (the MSG part after the syslog header) was parsed as.
enum class BodyFormat : uint8_t { kText, kCef, kLeef, kJson, kKv };

std::string_view SyslogFormatName(SyslogFormat f);  // "none", "rfc3164", "rfc5424"
std::string_view BodyFormatName(BodyFormat f);      // "text", "cef", "leef", "json", "kv"

struct EventField {
  std::string_view name;
  std::string_view value;
};

struct SyslogHeader {
  SyslogFormat format = SyslogFormat::kNone;
  int priority = -1;  // 0..191, -1 when the message had no <PRI>
  int facility() const { return priority < 0 ? -1 : priority / 8; }
  int severity() const { return priority < 0 ? -1 : priority % 8; }
  int version = 0;                // RFC 5424 VERSION, 0 for RFC 3164
  std::string_view timestamp;     // as written; empty when absent or NILVALUE
  // Microseconds since the epoch, when the timestamp says its year and zone (RFC 5424,
  // ISO 8601 in a 3164 header). An RFC 3164 "Mmm dd hh:mm:ss" has neither: nullopt, and
  // the caller uses its receive time.
  std::optional<int64_t> unix_us;
  std::string_view hostname;      // empty when absent or "-"
  std::string_view app_name;      // RFC 5424 APP-NAME or RFC 3164 TAG
  std::string_view procid;        // RFC 5424 PROCID or the pid in "tag[pid]:"
  std::string_view msgid;         // RFC 5424 only
};

class ParsedEvent {
 public:
  ParsedEvent() = default;
  ParsedEvent(const ParsedEvent&) = delete;
  ParsedEvent& operator=(const ParsedEvent&) = delete;

  SyslogHeader header;
  // The MSG part after the header (the whole message when there is none), BOM removed.
  std::string_view body;
  BodyFormat format = BodyFormat::kText;
  // RFC 5424 structured data first ("sd.<SD-ID>.<PARAM-NAME>"), then the body's fields in
  // the order they appear. Names may repeat (a JSON array's elements, repeated keys).
  std::vector<EventField> fields;
  // Why part of the message could not be parsed as what it announced, with a byte offset
  // (into the body for CEF/LEEF, into the message for RFC 5424 structured data): "CEF
  // header has 3 of 7 fields at byte 10", "invalid JSON: ...". Empty when all parsed. The
  // unparsed part is then reported as text so its observables are not lost.
  std::string_view error;

  StringArena& arena() { return arena_; }
  void AddField(std::string_view name, std::string_view value) { fields.push_back({name, value}); }
  // Resets everything for the next message; keeps allocated memory.
  void Clear();
  // The first field with this name, or nullopt.
  std::optional<std::string_view> Find(std::string_view name) const;

 private:
  StringArena arena_;
};

}  // namespace iocd
