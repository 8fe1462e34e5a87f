// HttpFetch: downloads one feed over HTTP or HTTPS, for a daemon that refreshes feeds on an
// interval.
//
// What it does: one blocking GET per call, following up to 5 redirects (301, 302, 303, 307,
// 308; http -> https is followed, https -> http is refused). It sends If-None-Match /
// If-Modified-Since from the previous fetch, so an unchanged feed costs a 304 and no body.
// It asks for gzip (Accept-Encoding: gzip) and returns the body decompressed: a body is
// gunzipped when the response says Content-Encoding: gzip, or when it starts with the gzip
// magic bytes 1f 8b (a .gz file served as application/gzip or octet-stream). Feeds are text,
// so a body that is still gzip after Content-Encoding was removed is gunzipped once more.
// Credentials in the URL (http://user:pass@host/) become an Authorization: Basic header;
// they are sent only to the host named in the URL, not to a different host a redirect
// points at.
//
// Limits: `timeout` bounds the whole call (resolve, connect, TLS handshake, every redirect
// hop, transfer); it is a deadline, not a per-read idle timer. `max_body_bytes` bounds both
// the bytes read from the network (per hop) and the decompressed size, so neither a huge
// response nor a gzip bomb can exhaust memory.
//
// TLS: the system trust store is always used; `ca_file` adds a PEM bundle (private CAs,
// tests). The server certificate must match the URL's host (DNS name or IP address in the
// subjectAltName); SNI is sent for host names. TLS 1.2 is the minimum.
//
// Ownership and threads: no state survives a call. Each call owns a private io_context and
// sockets, so concurrent calls from different threads are independent and safe. The call
// blocks the calling thread; run it off the event loop.
//
// Errors: messages name the URL (always without credentials; the query string is kept) and
// the step that failed: "resolve", "connect", "TLS handshake", "TLS certificate verification",
// "HTTP status 404 Not Found", "body too large", "bad gzip", "timeout", "redirect". Codes:
//   InvalidArgument  the request itself is malformed (bad URL, CR/LF in etag, zero timeout);
//   Unavailable      probably transient, retry at the next interval: resolve, connect,
//                    timeout, connection reset, TLS handshake failure other than
//                    verification, HTTP 408 / 429 / 5xx;
//   IoError          needs a person: certificate verification, other HTTP statuses (4xx),
//                    redirect errors, body too large, bad gzip, unsupported encoding,
//                    malformed HTTP, unreadable ca_file.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace iocd {

struct FetchRequest {
  std::string url;   // http://[user:pass@]host[:port]/path?query or https://...
  std::string etag;  // from the previous successful fetch; sent as If-None-Match when non-empty
  std::string last_modified;             // sent as If-Modified-Since when non-empty
  std::chrono::seconds timeout{60};      // whole request (connect + TLS + transfer). Default: 60 s
  uint64_t max_body_bytes = 1ull << 30;  // compressed per hop and decompressed. Default: 1 GiB
  std::string ca_file;     // extra CA bundle (PEM) to trust; the system store is always used
  bool verify_tls = true;  // false disables certificate and host name checks (private labs only)
};

struct FetchResult {
  enum class Kind { kBody, kNotModified };
  Kind kind = Kind::kBody;
  std::string body;  // kBody: the content, gunzipped when it was gzip; empty for kNotModified
  std::string etag;  // from the response; on kNotModified, the request's when the 304 omits it
  std::string last_modified;  // likewise
  int status = 0;             // final HTTP status (2xx or 304)
};

// Blocking GET; see the contract above.
Result<FetchResult> HttpFetch(const FetchRequest& request);

// A parsed http(s) URL. Pure data; `authorization` is a secret and never appears in
// Redacted() or in any error message.
struct ParsedUrl {
  std::string scheme;         // "http" or "https", lower case
  std::string host;           // lower case; an IPv6 literal without its brackets
  uint16_t port = 0;          // explicit, or 80 / 443
  std::string target;         // path + query, "/" when empty; the fragment is dropped
  std::string authorization;  // "Basic <base64(user:pass)>" from percent-decoded userinfo, or ""

  bool tls() const { return scheme == "https"; }
  // "host" or "host:port" (port only when not the scheme's default), IPv6 in brackets.
  std::string HostHeader() const;
  // scheme://host[:port]target, without credentials: safe for logs and messages.
  std::string Redacted() const;
};

// Parses an absolute http:// or https:// URL. InvalidArgument (with the offending part, never
// the userinfo) for other schemes, an empty or malformed host, a bad port, spaces or control
// characters, or a malformed percent escape in the userinfo.
Result<ParsedUrl> ParseHttpUrl(std::string_view url);

// Removes "user:pass@" from a URL-like string so it can go into a message, even when the
// string does not parse.
std::string RedactUrlCredentials(std::string_view url);

// Inflates gzip (or zlib) data: zlib windowBits 15+32, so the format is detected from the
// header. Concatenated gzip members are decoded one after another (as `gzip -d` does);
// trailing NUL padding is ignored. IoError "bad gzip: ..." (with the byte offset) for empty,
// corrupt or truncated input; IoError "... exceeds max_bytes" as soon as the output would
// pass max_bytes.
Result<std::string> Gunzip(std::string_view data, uint64_t max_bytes);

}  // namespace iocd
