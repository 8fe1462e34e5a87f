// Syslog header parsing: RFC 5424 and RFC 3164 as real senders write it.
//
// ParseSyslogHeader() fills event->header, appends RFC 5424 structured data to
// event->fields as "sd.<SD-ID>.<PARAM-NAME>" and points event->body at the MSG part.
// It never fails: what it cannot read as a header is body.
//
// Accepted:
//   RFC 5424  "<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD
//             [SP MSG]". NILVALUE "-" reads as empty. SD param values are unescaped
//             (backslash before '"', '\\' or ']'; any other backslash is kept, as the RFC
//             says). A UTF-8 BOM starting MSG is dropped. Malformed SD: event->error
//             says where, and the body starts at the SD.
//   RFC 3164  "[<PRI>]TIMESTAMP SP [HOSTNAME SP] [TAG[ '[' PID ']' ] ':' SP] MSG" with
//             TIMESTAMP one of "Mmm dd hh:mm:ss", "Mmm  d hh:mm:ss", "Mmm dd yyyy hh:mm:ss"
//             (optionally ".fff" after the seconds) or ISO 8601 "yyyy-mm-ddThh:mm:ss[.f][Z|+hh:mm]".
//             The HOSTNAME is absent when the first word is already a tag ("app:" or
//             "app[123]:") or starts the body ("CEF:", "LEEF:", '{', '['). A TAG may hold
//             "()/.-_" ("sshd(pam_unix)[19939]:", "postfix/smtpd[7]:").
//   "<PRI>MSG" with no timestamp: header.format is kRfc3164, everything after PRI is body.
//   Anything else (no PRI, no timestamp): header.format is kNone, the body is the message.
//
// Ownership: views point into message, except SD names and unescaped SD values (arena).
// Thread safety: pure function. Errors: none fatal; see event->error.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "parse/event.h"

namespace iocd {

void ParseSyslogHeader(std::string_view message, ParsedEvent* event);

// ISO 8601 / RFC 3339 timestamp with a zone ("2003-10-11T22:14:15.003Z",
// "2018-07-05T15:01:09.820360-0400") -> microseconds since the epoch; nullopt without a zone
// or when malformed.
std::optional<int64_t> ParseIsoTimestamp(std::string_view text);

}  // namespace iocd
