#include "parse/event_parser.h"

#include "parse/syslog_header.h"

namespace iocd {
namespace {

// '{', or '[' then '{' or '[' ("[Sun Dec 04 ...]" and "[10.30 16:49:06]" start log lines).
bool LooksLikeJson(std::string_view body) {
  if (body.empty()) return false;
  if (body[0] == '{') return true;
  if (body[0] != '[') return false;
  size_t i = 1;
  while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) ++i;
  return i < body.size() && (body[i] == '{' || body[i] == '[');
}

}  // namespace

void EventParser::Parse(std::string_view message, ParsedEvent* event) {
  event->Clear();
  ++counters_.events;
  ParseSyslogHeader(message, event);
  std::string_view body = event->body;
  // Fields parsed so far are structured data: a failed body parser must not drop them.
  const size_t header_fields = event->fields.size();
  bool announced = false;
  bool ok = false;
  const char first = body.empty() ? '\0' : body[0];
  if (first == 'C' && body.starts_with("CEF:")) {
    announced = true;
    ok = ParseCefBody(body, event);
    if (ok) event->format = BodyFormat::kCef;
  } else if (first == 'L' && body.starts_with("LEEF:")) {
    announced = true;
    ok = ParseLeefBody(body, event);
    if (ok) event->format = BodyFormat::kLeef;
  } else if (LooksLikeJson(body)) {
    announced = true;
    ok = json_.Flatten(body, event);
    if (ok) event->format = BodyFormat::kJson;
  } else if (LooksLikeKv(body)) {
    ParseKvBody(body, event);
    event->format = BodyFormat::kKv;
    ok = true;
  }
  if (!ok) {
    if (announced) ++counters_.malformed;
    event->fields.resize(header_fields);
    event->format = BodyFormat::kText;
    if (!body.empty()) event->AddField("message", body);
  }
  ++counters_.by_format[static_cast<size_t>(event->format)];
}

}  // namespace iocd
