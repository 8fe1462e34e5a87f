#include "fetch/http_fetcher.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <zlib.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <exception>
#include <optional>
#include <utility>

namespace iocd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

constexpr int kMaxRedirects = 5;
// Beast's default (8 KiB) is too small for some CDNs' cookie-laden headers.
constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr char kUserAgent[] = "iocd/0.1";

Status MakeStatus(StatusCode code, std::string msg) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return Status::InvalidArgument(std::move(msg));
    case StatusCode::kUnavailable:
      return Status::Unavailable(std::move(msg));
    case StatusCode::kInternal:
      return Status::Internal(std::move(msg));
    default:
      return Status::IoError(std::move(msg));
  }
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), AsciiLower);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsCtlOrSpace(unsigned char c) { return c <= 0x20 || c == 0x7f; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; false on a malformed escape.
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                 (uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) |
                 uint32_t{static_cast<unsigned char>(in[i + 2])};
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{static_cast<unsigned char>(in[i])} << 16;
    if (rest == 2) v |= uint32_t{static_cast<unsigned char>(in[i + 1])} << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool IsIpLiteral(const std::string& host) {
  ErrorCode ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

bool HasHeaderBreakingChar(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool IsGzipMagic(std::string_view s) {
  return s.size() >= 2 && static_cast<unsigned char>(s[0]) == 0x1f &&
         static_cast<unsigned char>(s[1]) == 0x8b;
}

// Gunzip with the reason kept apart, so HttpFetch can say "body too large" for a bomb and
// "bad gzip" for corrupt data without matching on message text.
enum class GunzipError { kNone, kCorrupt, kTooLarge };

GunzipError GunzipInto(std::string_view data, uint64_t max_bytes, std::string* out,
                       std::string* error) {
  out->clear();
  if (data.empty()) {
    *error = "bad gzip: empty input";
    return GunzipError::kCorrupt;
  }
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    *error = "bad gzip: zlib initialisation failed";
    return GunzipError::kCorrupt;
  }
  struct Guard {
    z_stream* z;
    ~Guard() { inflateEnd(z); }
  } guard{&zs};

  static constexpr size_t kChunk = 64 * 1024;
  // avail_in is 32 bits; feed large inputs in slices.
  static constexpr size_t kMaxSlice = size_t{1} << 30;
  char buf[kChunk];
  size_t fed = 0;  // bytes of `data` handed to zlib so far
  int member = 1;
  for (;;) {
    if (zs.avail_in == 0 && fed < data.size()) {
      size_t n = std::min(data.size() - fed, kMaxSlice);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + fed));
      zs.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = kChunk;
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t produced = kChunk - zs.avail_out;
    if (produced > max_bytes - out->size()) {
      *error = "decompressed size exceeds " + std::to_string(max_bytes) + " bytes";
      return GunzipError::kTooLarge;
    }
    out->append(buf, produced);
    size_t offset = fed - zs.avail_in;  // bytes of `data` consumed
    if (rc == Z_STREAM_END) {
      std::string_view rest = data.substr(offset);
      if (rest.find_first_not_of('\0') == std::string_view::npos) return GunzipError::kNone;
      // Another member follows (gzip allows concatenation).
      inflateReset(&zs);
      ++member;
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && fed == data.size()) {
      *error = "bad gzip: truncated (input ends inside member " + std::to_string(member) +
               " after " + std::to_string(data.size()) + " bytes)";
      return GunzipError::kCorrupt;
    }
    if (rc == Z_BUF_ERROR) continue;  // cannot happen with fresh output space; be safe anyway
    *error = "bad gzip: " + std::string(zs.msg != nullptr ? zs.msg : "corrupt data") +
             " in member " + std::to_string(member) + " near byte offset " + std::to_string(offset);
    return GunzipError::kCorrupt;
  }
}

// One request/response exchange on one connection.
struct HopResponse {
  int status = 0;
  std::string reason;
  std::string location;
  std::string content_encoding;
  std::string etag;
  std::string last_modified;
  std::string body;
};

// Runs one HttpFetch. Every network operation is asynchronous on a private io_context and is
// run to completion before the next starts, so the code reads sequentially while each
// operation stays bounded by the single deadline (beast::tcp_stream expiry, or a timer for
// the resolver).
class Fetcher {
 public:
  explicit Fetcher(const FetchRequest& request)
      : request_(request), deadline_(Clock::now() + request.timeout) {}

  Result<FetchResult> Run();

 private:
  Result<HopResponse> DoHop(const ParsedUrl& url);
  template <typename Stream>
  Result<HopResponse> Exchange(Stream& stream, const ParsedUrl& url);
  Status InitTls();
  Result<ParsedUrl> ResolveRedirect(const ParsedUrl& base, std::string_view location) const;
  Result<FetchResult> FinishBody(HopResponse hop);

  void RunIo() {
    ioc_.restart();
    ioc_.run();
  }
  // A message naming the URL (and where a redirect led), never credentials.
  Status Fail(StatusCode code, std::string_view detail) const {
    std::string msg = "fetch " + original_url_;
    if (!current_url_.empty() && current_url_ != original_url_) {
      msg += " (after " + std::to_string(redirects_) + " redirect" + (redirects_ == 1 ? "" : "s") +
             ", at " + current_url_ + ")";
    }
    msg += ": ";
    msg += detail;
    return MakeStatus(code, std::move(msg));
  }
  Status Timeout(std::string_view step) const {
    return Fail(StatusCode::kUnavailable,
                "timeout after " + std::to_string(request_.timeout.count()) +
                    "s (whole-request deadline) while " + std::string(step));
  }

  const FetchRequest& request_;
  const Clock::time_point deadline_;
  asio::io_context ioc_;
  std::optional<ssl::context> tls_;
  std::string original_url_;
  std::string current_url_;
  int redirects_ = 0;
  std::string verify_failure_;  // set by the verify callback of the current TLS handshake
};

Status Fetcher::InitTls() {
  if (tls_) return Status::Ok();
  tls_.emplace(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
  ErrorCode ec;
  // A host without a system store still works with ca_file; without either, verification
  // fails and says so, which is the useful message.
  tls_->set_default_verify_paths(ec);
  if (!request_.ca_file.empty()) {
    tls_->load_verify_file(request_.ca_file, ec);
    if (ec) {
      return Fail(StatusCode::kIoError,
                  "cannot load ca_file '" + request_.ca_file + "': " + ec.message());
    }
  }
  tls_->set_verify_mode(request_.verify_tls ? ssl::verify_peer : ssl::verify_none);
  return Status::Ok();
}

Result<FetchResult> Fetcher::Run() {
  auto parsed = ParseHttpUrl(request_.url);
  if (!parsed.ok()) return parsed.status();
  original_url_ = parsed->Redacted();
  if (request_.timeout.count() <= 0) {
    return Fail(StatusCode::kInvalidArgument, "timeout must be positive");
  }
  if (HasHeaderBreakingChar(request_.etag) || HasHeaderBreakingChar(request_.last_modified)) {
    return Fail(StatusCode::kInvalidArgument, "etag or last_modified contains CR, LF or NUL");
  }
  ParsedUrl url = std::move(parsed).value();
  for (;;) {
    current_url_ = url.Redacted();
    auto hop = DoHop(url);
    if (!hop.ok()) return hop.status();
    const int status = hop->status;
    const bool redirect =
        status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    if (redirect) {
      if (hop->location.empty()) {
        return Fail(StatusCode::kIoError, "redirect: HTTP status " + std::to_string(status) +
                                              " without a Location header");
      }
      if (redirects_ == kMaxRedirects) {
        return Fail(StatusCode::kIoError, "redirect: too many redirects (more than " +
                                              std::to_string(kMaxRedirects) + "), next Location " +
                                              RedactUrlCredentials(hop->location));
      }
      auto next = ResolveRedirect(url, hop->location);
      if (!next.ok()) {
        return Fail(StatusCode::kIoError, "redirect: bad Location: " + next.status().message());
      }
      if (url.tls() && !next->tls()) {
        return Fail(StatusCode::kIoError,
                    "redirect from https to http refused (Location " + next->Redacted() + ")");
      }
      // Credentials go only to the host the user named (as curl does).
      if (next->authorization.empty() && next->host == url.host) {
        next->authorization = url.authorization;
      }
      url = std::move(next).value();
      ++redirects_;
      continue;
    }
    if (status == 304) {
      FetchResult result;
      result.kind = FetchResult::Kind::kNotModified;
      result.status = status;
      result.etag = hop->etag.empty() ? request_.etag : hop->etag;
      result.last_modified =
          hop->last_modified.empty() ? request_.last_modified : hop->last_modified;
      return result;
    }
    if (status >= 200 && status < 300) return FinishBody(std::move(hop).value());
    const bool transient = status == 408 || status == 429 || status >= 500;
    return Fail(
        transient ? StatusCode::kUnavailable : StatusCode::kIoError,
        "HTTP status " + std::to_string(status) + (hop->reason.empty() ? "" : " " + hop->reason));
  }
}

Result<FetchResult> Fetcher::FinishBody(HopResponse hop) {
  FetchResult result;
  result.kind = FetchResult::Kind::kBody;
  result.status = hop.status;
  result.etag = std::move(hop.etag);
  result.last_modified = std::move(hop.last_modified);
  std::string body = std::move(hop.body);
  const std::string encoding = ToLower(Trim(hop.content_encoding));
  auto gunzip = [&](std::string_view why) -> Status {
    std::string out, error;
    switch (GunzipInto(body, request_.max_body_bytes, &out, &error)) {
      case GunzipError::kNone:
        body = std::move(out);
        return Status::Ok();
      case GunzipError::kTooLarge:
        return Fail(StatusCode::kIoError, "body too large after gunzip (" + std::string(why) +
                                              "): " + error + " (max_body_bytes)");
      case GunzipError::kCorrupt:
        break;
    }
    return Fail(StatusCode::kIoError, error + " (" + std::string(why) + ")");
  };
  bool decoded = false;
  if (encoding == "gzip" || encoding == "x-gzip") {
    if (!body.empty()) {
      Status s = gunzip("Content-Encoding: gzip");
      if (!s.ok()) return s;
    }
    decoded = true;
  } else if (!encoding.empty() && encoding != "identity") {
    return Fail(StatusCode::kIoError, "unsupported Content-Encoding '" + encoding + "'");
  }
  // A .gz file (application/gzip), or a .gz file that was gzip-encoded once more in transit.
  if (IsGzipMagic(body)) {
    Status s = gunzip(decoded ? "gzip file inside Content-Encoding: gzip" : "gzip file");
    if (!s.ok()) return s;
  }
  result.body = std::move(body);
  return result;
}

Result<ParsedUrl> Fetcher::ResolveRedirect(const ParsedUrl& base, std::string_view location) const {
  location = Trim(location);
  const size_t colon = location.find(':');
  const size_t delim = location.find_first_of("/?#");
  if (colon != std::string_view::npos && colon > 0 &&
      (delim == std::string_view::npos || colon < delim)) {
    return ParseHttpUrl(location);  // absolute; other schemes are rejected there
  }
  if (location.substr(0, 2) == "//") return ParseHttpUrl(base.scheme + ":" + std::string(location));
  const std::string origin = base.scheme + "://" + base.HostHeader();
  if (!location.empty() && location[0] == '/') return ParseHttpUrl(origin + std::string(location));
  const std::string_view base_path =
      std::string_view(base.target).substr(0, base.target.find_first_of('?'));
  if (!location.empty() && location[0] == '?') {
    return ParseHttpUrl(origin + std::string(base_path) + std::string(location));
  }
  const std::string_view dir = base_path.substr(0, base_path.rfind('/') + 1);
  return ParseHttpUrl(origin + std::string(dir) + std::string(location));
}

Result<HopResponse> Fetcher::DoHop(const ParsedUrl& url) {
  const std::string where = url.HostHeader();
  ErrorCode ec;
  if (url.tls()) {
    // Before any network I/O, so a bad ca_file is reported as such.
    Status tls_status = InitTls();
    if (!tls_status.ok()) return tls_status;
  }

  // Resolve, bounded by a timer (the resolver has no expiry of its own).
  tcp::resolver resolver(ioc_);
  asio::steady_timer timer(ioc_);
  tcp::resolver::results_type endpoints;
  bool resolve_timed_out = false;
  timer.expires_at(deadline_);
  resolver.async_resolve(url.host, std::to_string(url.port),
                         [&](ErrorCode e, tcp::resolver::results_type results) {
                           ec = e;
                           endpoints = std::move(results);
                           timer.cancel();
                         });
  timer.async_wait([&](ErrorCode e) {
    if (!e) {
      resolve_timed_out = true;
      resolver.cancel();
    }
  });
  RunIo();
  if (resolve_timed_out) return Timeout("resolving host '" + url.host + "'");
  if (ec) {
    return Fail(StatusCode::kUnavailable,
                "resolve host '" + url.host + "' failed: " + ec.message());
  }

  beast::tcp_stream tcp_stream(ioc_);
  tcp_stream.expires_at(deadline_);  // covers every later operation on this connection
  tcp_stream.async_connect(endpoints, [&](ErrorCode e, const tcp::endpoint&) { ec = e; });
  RunIo();
  if (ec == beast::error::timeout) return Timeout("connecting to " + where);
  if (ec) return Fail(StatusCode::kUnavailable, "connect to " + where + " failed: " + ec.message());

  if (!url.tls()) return Exchange(tcp_stream, url);

  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls_);
  if (!IsIpLiteral(url.host)) {
    // SNI; RFC 6066 forbids IP literals here.
    if (SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()) != 1) {
      return Fail(StatusCode::kInternal, "TLS handshake: cannot set SNI host name");
    }
  }
  verify_failure_.clear();
  if (request_.verify_tls) {
    stream.set_verify_callback(
        [this, host = url.host](bool preverified, ssl::verify_context& ctx) {
          const bool ok = ssl::host_name_verification(host)(preverified, ctx);
          if (!ok && verify_failure_.empty()) {
            X509_STORE_CTX* store = ctx.native_handle();
            if (!preverified) {
              verify_failure_ =
                  std::string(X509_verify_cert_error_string(X509_STORE_CTX_get_error(store))) +
                  " (chain depth " + std::to_string(X509_STORE_CTX_get_error_depth(store)) + ")";
            } else {
              verify_failure_ = "certificate does not match host '" + host + "'";
            }
          }
          return ok;
        },
        ec);
    if (ec) return Fail(StatusCode::kInternal, "TLS: cannot set verify callback: " + ec.message());
  }
  stream.async_handshake(ssl::stream_base::client, [&](ErrorCode e) { ec = e; });
  RunIo();
  if (ec) {
    if (!verify_failure_.empty()) {
      return Fail(StatusCode::kIoError, "TLS certificate verification failed: " + verify_failure_);
    }
    if (ec == beast::error::timeout) return Timeout("TLS handshake with " + where);
    return Fail(StatusCode::kUnavailable,
                "TLS handshake with " + where + " failed: " + ec.message());
  }
  return Exchange(stream, url);
}

template <typename Stream>
Result<HopResponse> Fetcher::Exchange(Stream& stream, const ParsedUrl& url) {
  http::request<http::empty_body> req{http::verb::get, url.target, 11};
  req.set(http::field::host, url.HostHeader());
  req.set(http::field::user_agent, kUserAgent);
  req.set(http::field::accept, "*/*");
  req.set(http::field::accept_encoding, "gzip");
  req.set(http::field::connection, "close");
  if (!request_.etag.empty()) req.set(http::field::if_none_match, request_.etag);
  if (!request_.last_modified.empty()) {
    req.set(http::field::if_modified_since, request_.last_modified);
  }
  if (!url.authorization.empty()) req.set(http::field::authorization, url.authorization);

  ErrorCode ec;
  http::async_write(stream, req, [&](ErrorCode e, size_t) { ec = e; });
  RunIo();
  if (ec == beast::error::timeout) return Timeout("sending the request");
  if (ec) return Fail(StatusCode::kUnavailable, "send request failed: " + ec.message());

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(request_.max_body_bytes);
  // Header first, then body: Boost 1.74's eager parse (what async_read does) loses the
  // body_limit error for a Content-Length larger than the limit when the body arrives in the
  // same read as the header, so the announced length is checked here explicitly.
  http::async_read_header(stream, buffer, parser, [&](ErrorCode e, size_t) { ec = e; });
  RunIo();
  // (A 304 may carry the Content-Length of the full resource; it is done already.)
  if (!ec && !parser.is_done() && parser.content_length() &&
      *parser.content_length() > request_.max_body_bytes) {
    ec = http::error::body_limit;
  }
  if (!ec && !parser.is_done()) {
    http::async_read(stream, buffer, parser, [&](ErrorCode e, size_t) { ec = e; });
    RunIo();
  }
  if (ec == http::error::body_limit) {
    return Fail(StatusCode::kIoError, "body too large: more than " +
                                          std::to_string(request_.max_body_bytes) +
                                          " bytes (max_body_bytes)");
  }
  if (ec == beast::error::timeout) return Timeout("reading the response");
  if (ec == http::error::header_limit) {
    return Fail(StatusCode::kIoError,
                "response header larger than " + std::to_string(kHeaderLimit) + " bytes");
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return Fail(StatusCode::kUnavailable,
                "read response failed: connection closed early (" + ec.message() + ")");
  }
  if (ec && ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return Fail(StatusCode::kIoError, "malformed HTTP response: " + ec.message());
  }
  if (ec) return Fail(StatusCode::kUnavailable, "read response failed: " + ec.message());

  auto& res = parser.get();
  HopResponse hop;
  hop.status = static_cast<int>(res.result_int());
  hop.reason = std::string(res.reason());
  hop.location = std::string(res[http::field::location]);
  hop.content_encoding = std::string(res[http::field::content_encoding]);
  hop.etag = std::string(res[http::field::etag]);
  hop.last_modified = std::string(res[http::field::last_modified]);
  hop.body = std::move(res.body());
  return hop;
}

}  // namespace

std::string ParsedUrl::HostHeader() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const uint16_t default_port = tls() ? 443 : 80;
  if (port != default_port) out += ":" + std::to_string(port);
  return out;
}

std::string ParsedUrl::Redacted() const { return scheme + "://" + HostHeader() + target; }

std::string RedactUrlCredentials(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  // Deliberately conservative: the last '@' before any query or fragment ends the
  // credentials, even past a '/', because a password with an unescaped '/' is a common
  // mistake and must not leak into a log.
  const size_t end = url.find_first_of("?#", start);
  const std::string_view head = url.substr(0, end);
  const size_t at = head.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  return std::string(url.substr(0, start)) + "***@" + std::string(url.substr(at + 1));
}

Result<ParsedUrl> ParseHttpUrl(std::string_view url) {
  // Messages quote the URL only through RedactUrlCredentials, and never quote a piece of the
  // authority, which might be part of a mistyped password.
  auto bad = [&](std::string_view what) {
    return Status::InvalidArgument("bad URL '" + RedactUrlCredentials(url) +
                                   "': " + std::string(what));
  };
  if (url.empty()) return Status::InvalidArgument("bad URL: empty");
  for (size_t i = 0; i < url.size(); ++i) {
    if (IsCtlOrSpace(static_cast<unsigned char>(url[i]))) {
      return Status::InvalidArgument("bad URL: space or control character at offset " +
                                     std::to_string(i));
    }
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return bad("no scheme (expected http:// or https://)");
  ParsedUrl out;
  out.scheme = ToLower(url.substr(0, scheme_end));
  if (out.scheme != "http" && out.scheme != "https") {
    bool printable =
        out.scheme.size() <= 16 && std::all_of(out.scheme.begin(), out.scheme.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
                 c == '.';
        });
    return bad(printable ? "unsupported scheme '" + out.scheme + "' (expected http or https)"
                         : std::string("unsupported scheme (expected http or https)"));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));  // the fragment is never sent
  const size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  const std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);

  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    std::string user, password;
    if (!PercentDecode(userinfo.substr(0, colon), &user) ||
        (colon != std::string_view::npos &&
         !PercentDecode(userinfo.substr(colon + 1), &password))) {
      return bad("malformed percent escape in the credentials");
    }
    out.authorization = "Basic " + Base64(user + ":" + password);
  }

  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal in host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("unexpected characters after the IPv6 literal");
      port = after.substr(1);
      has_port = true;
    }
    ErrorCode ec;
    asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return bad("host is not a valid IPv6 address");
  } else {
    const size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    for (size_t i = 0; i < host.size(); ++i) {
      if (!IsHostChar(host[i])) {
        return bad("invalid character in host at offset " + std::to_string(i) +
                   " (use punycode for international names)");
      }
    }
  }
  if (host.empty()) return bad("empty host");
  out.host = ToLower(host);

  out.port = out.tls() ? 443 : 80;
  if (has_port && !port.empty()) {  // "host:" means the default port (RFC 3986)
    uint32_t value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) return bad("port is not a number in 1..65535");
      value = value * 10 + static_cast<uint32_t>(c - '0');
    }
    if (value == 0 || value > 65535) return bad("port is not a number in 1..65535");
    out.port = static_cast<uint16_t>(value);
  }
  if (target.empty()) {
    out.target = "/";
  } else if (target[0] == '?') {
    out.target = "/" + std::string(target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

Result<std::string> Gunzip(std::string_view data, uint64_t max_bytes) {
  std::string out, error;
  if (GunzipInto(data, max_bytes, &out, &error) != GunzipError::kNone) {
    return Status::IoError(std::move(error));
  }
  return out;
}

Result<FetchResult> HttpFetch(const FetchRequest& request) {
  // Boost and OpenSSL may throw on resource exhaustion (context creation, allocation); keep
  // that from crossing the component boundary.
  try {
    Fetcher fetcher(request);
    return fetcher.Run();
  } catch (const std::exception& e) {
    return Status::Internal("fetch " + RedactUrlCredentials(request.url) +
                            ": unexpected exception: " + e.what());
  }
}

}  // namespace iocd
