// HitFormatter: renders a hit as one message in an output's format (docs/hits.md).
//
// What it is: one implementation per OutputFormat (json, cef, leef, rfc5424, template),
// created from an output's config by MakeHitFormatter(), which validates the format's
// options (LEEF delimiter, template syntax). The message carries no framing (no trailing
// LF): the transport adds it.
//
// Escaping (each format's rules in docs/hits.md): every format renders a value so that it
// cannot end the message or break the format's structure: LF and CR never appear raw; the
// format's own special characters are backslash-escaped; other control characters become
// a space; bytes that are not well-formed UTF-8 become U+FFFD. JSON keeps its own RFC 8259
// rules (hit_json.h).
//
// Service events and suppression (docs/hits.md#service-events, #suppression-fields): a
// hit with service_event.kind set renders as a service event in every format (signature
// id KL_ALERT_*, severity info 3 / warning 6 / error 8); a hit with count > 1 or summary
// adds its count, summary flag and window start. Other hits render unchanged.
//
// Raw event truncation: when raw_event_max_bytes > 0, a longer raw event is cut at a UTF-8
// boundary and "[truncated]" appended, in every format.
//
// Thread safety: Format() is const and may be called from many threads at once.
// Errors: Format() never fails; only MakeHitFormatter() returns InvalidArgument.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/format_syntax.h"  // ParseLeefDelimiter, ParseLineTemplate
#include "common/status.h"
#include "proto/config.pb.h"
#include "proto/hit.pb.h"

namespace iocd {

class HitFormatter {
 public:
  virtual ~HitFormatter() = default;
  // Appends the message for `hit` to `out`.
  virtual void Format(const iocd::hit::Hit& hit, std::string* out) const = 0;
};

// Creates the formatter for config.format() (unspecified = json), using leef_delimiter,
// line_template, raw_event_max_bytes, syslog_hostname and syslog_app_name. Returns
// InvalidArgument naming the bad option.
Result<std::unique_ptr<HitFormatter>> MakeHitFormatter(const iocd::config::Output& config);

// The escaping rules, exposed for tests.
// CEF header field (vendor, product, name, ...): '\' and '|' escaped.
void AppendCefHeader(std::string_view value, std::string* out);
// CEF extension value: '\' and '=' escaped; LF, CR as \n, \r.
void AppendCefValue(std::string_view value, std::string* out);
// LEEF header field: '\' and '|' escaped.
void AppendLeefHeader(std::string_view value, std::string* out);
// LEEF attribute value: '\' and the delimiter escaped; LF, CR as \n, \r.
void AppendLeefValue(std::string_view value, char delimiter, std::string* out);
// RFC 5424 PARAM-VALUE (without quotes): '"', '\' and ']' escaped (RFC 5424 6.3.3).
void AppendSdParamValue(std::string_view value, std::string* out);
// RFC 5424 PARAM-NAME / SD-NAME: 1..32 printable US-ASCII characters except '=', SP, ']',
// '"'; every other byte becomes '_', longer names are cut to 32, an empty one is "_".
std::string SdName(std::string_view name);

}  // namespace iocd
