// MakeInput (ingest/input.h): config::Input -> a bound listener.
#include <charconv>

#include "config/config.h"
#include "common/duration.h"
#include "ingest/input.h"
#include "ingest/syslog_stream_listener.h"
#include "ingest/syslog_udp_listener.h"
#include "proto/config.pb.h"

namespace iocd {

namespace asio = boost::asio;

Result<std::unique_ptr<Input>> MakeInput(asio::io_context& io, const config::Input& in, EventHandler handler,
                                         EventBatchHandler batch_handler, InputIdleHandler idle_handler) {
  auto invalid = [&](const std::string& what) { return Status::InvalidArgument("input " + in.name() + ": " + what); };

  std::chrono::milliseconds idle{0};
  if (!in.idle_timeout().empty()) {
    auto d = ParseDuration(in.idle_timeout());
    if (!d.ok()) return invalid("idle_timeout: " + d.status().message());
    idle = *d;
  }

  asio::ip::address addr;
  uint16_t port = 0;
  if (in.protocol() != config::INPUT_PROTOCOL_SYSLOG_UNIX) {
    auto hp = ParseHostPort(in.listen(), /*allow_hostname=*/false);
    if (!hp.ok()) return invalid(hp.status().message());
    boost::system::error_code ec;
    addr = asio::ip::make_address(hp->host, ec);
    if (ec) return invalid("bad address " + hp->host);
    port = hp->port;
  }

  SyslogStreamListener::Options so;
  so.name = in.name();
  so.max_message_bytes = in.max_message_bytes();
  so.max_connections = in.max_connections();
  so.idle_timeout = idle;
  so.endpoint = asio::ip::tcp::endpoint(addr, port);
  // ReplyBack (docs/replyback.md); defaults as config.cc applies them, for configs built in code.
  so.reply_back = !in.reply_back().has_enabled() || in.reply_back().enabled();
  if (in.reply_back().max_pending_bytes() > 0) so.reply_max_pending_bytes = in.reply_back().max_pending_bytes();

  switch (in.protocol()) {
    case config::INPUT_PROTOCOL_SYSLOG_TCP:
      so.transport = SyslogStreamListener::Transport::kTcp;
      break;
    case config::INPUT_PROTOCOL_SYSLOG_TLS:
      so.transport = SyslogStreamListener::Transport::kTls;
      so.tls.cert_file = in.tls().cert();
      so.tls.key_file = in.tls().key();
      so.tls.ca_file = in.tls().ca();
      so.tls.require_client_cert = in.tls().require_client_cert();
      break;
    case config::INPUT_PROTOCOL_SYSLOG_UNIX: {
      so.transport = SyslogStreamListener::Transport::kUnix;
      so.unix_path = in.path();
      const std::string& mode = in.socket_mode().empty() ? std::string("0660") : in.socket_mode();
      unsigned bits = 0;
      auto [end, err] = std::from_chars(mode.data(), mode.data() + mode.size(), bits, 8);
      if (err != std::errc() || end != mode.data() + mode.size() || bits > 07777) {
        return invalid("socket_mode: expected octal permission bits, got " + mode);
      }
      so.unix_mode = bits;
      break;
    }
    case config::INPUT_PROTOCOL_SYSLOG_UDP: {
      SyslogUdpListener::Options uo;
      uo.name = in.name();
      uo.endpoint = asio::ip::udp::endpoint(addr, port);
      uo.max_message_bytes = std::min<size_t>(in.max_message_bytes() == 0 ? SyslogUdpListener::kMaxDatagramBytes
                                                                          : in.max_message_bytes(),
                                              SyslogUdpListener::kMaxDatagramBytes);
      auto udp = SyslogUdpListener::Create(io, uo, std::move(handler));
      if (!udp.ok()) return udp.status();
      return std::unique_ptr<Input>(std::move(udp).value());
    }
    default:
      return invalid("unsupported protocol " + std::to_string(static_cast<int>(in.protocol())));
  }
  auto stream = SyslogStreamListener::Create(io, so, std::move(handler), std::move(batch_handler),
                                             std::move(idle_handler));
  if (!stream.ok()) return stream.status();
  return std::unique_ptr<Input>(std::move(stream).value());
}

}  // namespace iocd
