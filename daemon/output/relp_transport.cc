#include "output/relp_transport.h"

extern "C" {  // librelp.h has no C++ linkage guard
#include <librelp.h>
}
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <string_view>
#include <utility>

#include "output/tcp_output.h"

namespace iocd {
namespace {

// librelp reads the "stop now" flag through a plain int pointer.
static_assert(sizeof(std::atomic<int>) == sizeof(int) && std::atomic<int>::is_always_lock_free);

std::string RelpCodeName(relpRetVal code) {
  switch (code) {
    case RELP_RET_OK: return "RELP_RET_OK";
    case RELP_RET_OUT_OF_MEMORY: return "RELP_RET_OUT_OF_MEMORY";
    case RELP_RET_SESSION_BROKEN: return "RELP_RET_SESSION_BROKEN";
    case RELP_RET_SESSION_CLOSED: return "RELP_RET_SESSION_CLOSED";
    case RELP_RET_DATA_TOO_LONG: return "RELP_RET_DATA_TOO_LONG";
    case RELP_RET_IO_ERR: return "RELP_RET_IO_ERR";
    case RELP_RET_TIMED_OUT: return "RELP_RET_TIMED_OUT";
    case RELP_RET_RSP_STATE_ERR: return "RELP_RET_RSP_STATE_ERR (the receiver answered an error)";
    case RELP_RET_INCOMPAT_OFFERS: return "RELP_RET_INCOMPAT_OFFERS";
    case RELP_RET_RQD_FEAT_MISSING: return "RELP_RET_RQD_FEAT_MISSING (the receiver does not take syslog)";
    case RELP_RET_CMD_DISABLED: return "RELP_RET_CMD_DISABLED";
    case RELP_RET_INVALID_PORT: return "RELP_RET_INVALID_PORT";
    default: return "librelp error " + std::to_string(code);
  }
}

class RelpTransport final : public Transport {
 public:
  RelpTransport(std::string host, std::string port, RelpClientOptions options)
      : host_(std::move(host)),
        port_(std::move(port)),
        options_(options),
        target_("relp://" + (host_.find(':') == std::string::npos ? host_ : "[" + host_ + "]") + ":" + port_) {}

  ~RelpTransport() override {
    AbortSession();
    if (engine_ != nullptr) relpEngineDestruct(&engine_);
  }

  bool connected() const override { return connected_; }
  const std::string& target() const override { return target_; }

  Status Connect() override {
    if (connected_) return Status::Ok();
    if (Status s = BeginSession(); !s.ok()) return s;
    if (Status s = EndSession(); !s.ok()) return s;
    connected_ = true;
    return Status::Ok();
  }

  Status Send(std::string_view bytes) override {
    if (!connected_) return Status::IoError(target_ + ": not connected");
    if (Status s = BeginSession(); !s.ok()) return s;
    relpCltHintBurstBegin(client_);
    size_t pos = 0;
    while (pos < bytes.size()) {
      size_t end = bytes.find('\n', pos);
      if (end == std::string_view::npos) end = bytes.size();
      if (end > pos) {
        // librelp copies the message into its frame; it does not write through the pointer.
        auto* msg = reinterpret_cast<unsigned char*>(const_cast<char*>(bytes.data() + pos));
        const relpRetVal rc = relpCltSendSyslog(client_, msg, end - pos);
        if (rc != RELP_RET_OK || !error_.empty()) {
          const std::string why = Failure("sending", rc);
          AbortSession();
          return Status::IoError(why);
        }
      }
      pos = end + 1;
    }
    relpCltHintBurstEnd(client_);
    return EndSession();
  }

  // Send() returns only once the receiver acknowledged everything: nothing is pending.
  uint64_t Unacknowledged() override { return 0; }
  // No connection is held between calls.
  bool PeerClosed() override { return false; }

  void Close() override {
    AbortSession();
    connected_ = false;
  }

  void Interrupt() override { stop_.store(1); }

 private:
  static void OnErr(void* usr, char* objinfo, char* errmsg, relpRetVal code) {
    if (usr == nullptr || code == RELP_RET_WRN_NO_KEEPALIVE) return;
    auto* self = static_cast<RelpTransport*>(usr);
    if (!self->error_.empty()) return;  // keep the first: later ones are its consequences
    self->error_ = std::string(errmsg != nullptr ? errmsg : "error") + " (" + RelpCodeName(code) +
                   (objinfo != nullptr ? std::string(", ") + objinfo : std::string()) + ")";
  }
  // Errors without a session (listener side); a client engine does not raise them.
  static void OnGenericErr(char*, char*, relpRetVal) {}
  // librelp calls its debug printer unconditionally; it must be set.
  static void NoDebug(char*, ...) {}

  Status MakeEngine() {
    if (engine_ != nullptr) return Status::Ok();
    if (relpEngineConstruct(&engine_) != RELP_RET_OK) {
      engine_ = nullptr;
      return Status::IoError(target_ + ": librelp engine construction failed");
    }
    static unsigned char kSyslog[] = "syslog";
    relpEngineSetEnableCmd(engine_, kSyslog, eRelpCmdState_Required);
    relpEngineSetOnErr(engine_, &RelpTransport::OnErr);
    relpEngineSetOnGenericErr(engine_, &RelpTransport::OnGenericErr);
    relpEngineSetDbgprint(engine_, &RelpTransport::NoDebug);
    relpEngineSetShutdownImmdtPtr(engine_, reinterpret_cast<int*>(&stop_));
    return Status::Ok();
  }

  std::string Failure(const char* what, relpRetVal rc) const {
    std::string out = target_ + ": " + what + " failed: ";
    if (stop_.load() != 0) return out + "interrupted";
    if (error_.empty()) return out + RelpCodeName(rc);
    out += error_;
    // The call's own code is often more precise than the session error reported first.
    if (rc != RELP_RET_OK && error_.find(RelpCodeName(rc)) == std::string::npos) out += "; " + RelpCodeName(rc);
    return out;
  }

  // Opens a RELP session (TCP connect and the "open" handshake).
  Status BeginSession() {
    if (stop_.load() != 0) return Status::IoError(target_ + ": interrupted");
    if (Status s = MakeEngine(); !s.ok()) return s;
    AbortSession();
    error_.clear();
    if (relpEngineCltConstruct(engine_, &client_) != RELP_RET_OK) {
      client_ = nullptr;
      return Status::IoError(target_ + ": librelp client construction failed");
    }
    const unsigned seconds = static_cast<unsigned>(std::max<int64_t>(1, options_.timeout.count()));
    relpCltSetUsrPtr(client_, this);
    relpCltSetTimeout(client_, seconds);
    relpCltSetConnTimeout(client_, static_cast<int>(seconds));
    relpCltSetWindowSize(client_, std::max(2, options_.window));
    std::string port = port_, host = host_;
    const relpRetVal rc = relpCltConnect(client_, AF_UNSPEC, reinterpret_cast<unsigned char*>(port.data()),
                                         reinterpret_cast<unsigned char*>(host.data()));
    if (rc != RELP_RET_OK || !error_.empty()) {
      const std::string why = Failure("connecting", rc);
      AbortSession();
      return Status::IoError(why);
    }
    return Status::Ok();
  }

  // Sends "close" and waits for its response, which follows the responses to every
  // frame sent before; librelp reports a missing or error response through OnErr.
  Status EndSession() {
    if (client_ == nullptr) return Status::Ok();
    const relpRetVal rc = relpEngineCltDestruct(engine_, &client_);
    client_ = nullptr;
    if (rc != RELP_RET_OK || !error_.empty() || stop_.load() != 0) return Status::IoError(Failure("acknowledgement", rc));
    return Status::Ok();
  }

  // Drops the session; whatever it still waits for is not acknowledged.
  void AbortSession() {
    if (client_ == nullptr) return;
    std::string keep = std::move(error_);
    error_ = "aborted";  // a broken session's polite close may report errors; ignored
    relpEngineCltDestruct(engine_, &client_);
    client_ = nullptr;
    error_ = std::move(keep);
  }

  const std::string host_, port_;
  const RelpClientOptions options_;
  const std::string target_;
  relpEngine_t* engine_ = nullptr;
  relpClt_t* client_ = nullptr;
  bool connected_ = false;
  std::string error_;  // the first librelp error of the current session (owner thread)
  std::atomic<int> stop_{0};
};

}  // namespace

std::unique_ptr<Transport> NewRelpTransport(std::string host, std::string port, RelpClientOptions options) {
  return std::make_unique<RelpTransport>(std::move(host), std::move(port), options);
}

Status NewRelpTransport(std::string_view address, std::unique_ptr<Transport>* out) {
  std::string host, port;
  if (Status s = SplitHostPort(address, &host, &port); !s.ok()) return Status::InvalidArgument(s.message());
  *out = NewRelpTransport(std::move(host), std::move(port));
  return Status::Ok();
}

}  // namespace iocd
