#include "output/transport.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace iocd {
namespace {

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

std::string Target(const std::string& host, const std::string& port) {
  return host.find(':') == std::string::npos ? host + ":" + port : "[" + host + "]:" + port;
}

// A connected socket (TCP or UDP) to the first address of host:port that accepts.
Result<int> ConnectSocket(const std::string& host, const std::string& port, int type,
                          std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = type;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return Status::IoError("resolving " + Target(host, port) + ": " + gai_strerror(rc));
  }
  std::string last = "no address";
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = Errno("socket");
      continue;
    }
    timeval tv{};
    tv.tv_sec = timeout.count() / 1000;
    tv.tv_usec = (timeout.count() % 1000) * 1000;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));  // also bounds connect()
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      // Connecting to a local port nobody listens on can connect the socket to itself.
      sockaddr_storage local{};
      socklen_t len = sizeof(local);
      if (type == SOCK_STREAM && ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
          len == ai->ai_addrlen && std::memcmp(&local, ai->ai_addr, len) == 0) {
        last = "connection refused (self-connect)";
        ::close(fd);
        fd = -1;
        continue;
      }
      break;
    }
    last = Errno("connect");
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) return Status::IoError("connecting to " + Target(host, port) + ": " + last);
  return fd;
}

// The descriptor of a connected socket. The owner thread sets, reads and closes it; any
// thread may Shutdown() it to wake the owner from a blocking call. The mutex orders Set()
// and Close() against Shutdown(), so a shutdown never hits a closed or reused descriptor.
class InterruptibleFd {
 public:
  InterruptibleFd() = default;
  InterruptibleFd(const InterruptibleFd&) = delete;
  InterruptibleFd& operator=(const InterruptibleFd&) = delete;
  ~InterruptibleFd() { Close(); }

  // Owner thread only; -1 when not connected.
  int get() const { return fd_; }
  void Set(int fd) {
    std::lock_guard lock(mu_);
    fd_ = fd;
  }
  void Close() {
    std::lock_guard lock(mu_);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Thread-safe: makes blocking calls on the socket return; the owner still Close()s it.
  void Shutdown() {
    std::lock_guard lock(mu_);
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }

 private:
  std::mutex mu_;
  int fd_ = -1;
};

class SocketTransport : public Transport {
 public:
  SocketTransport(std::string host, std::string port, int type, std::chrono::milliseconds timeout)
      : host_(std::move(host)), port_(std::move(port)), type_(type), timeout_(timeout), target_(Target(host_, port_)) {}
  ~SocketTransport() override { Close(); }

  bool datagram() const override { return type_ == SOCK_DGRAM; }
  bool connected() const override { return fd_.get() >= 0; }
  const std::string& target() const override { return target_; }

  Status Connect() override {
    if (fd_.get() >= 0) return Status::Ok();
    Result<int> fd = ConnectSocket(host_, port_, type_, timeout_);
    if (!fd.ok()) return fd.status();
    if (type_ == SOCK_STREAM) {
      int one = 1;
      ::setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ::setsockopt(*fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
    fd_.Set(*fd);
    return Status::Ok();
  }

  Status Send(std::string_view bytes) override {
    if (fd_.get() < 0) return Status::IoError("not connected");
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::IoError("send to " + target_ + ": timed out");
        return Status::IoError(Errno(("send to " + target_).c_str()));
      }
      done += static_cast<size_t>(n);
      if (datagram()) break;
    }
    return Status::Ok();
  }

  uint64_t Unacknowledged() override {
    if (fd_.get() < 0 || type_ != SOCK_STREAM) return 0;
    int pending = 0;
    if (::ioctl(fd_.get(), SIOCOUTQ, &pending) != 0) return UINT64_MAX;
    return static_cast<uint64_t>(pending);
  }

  bool PeerClosed() override {
    if (fd_.get() < 0 || type_ != SOCK_STREAM) return false;
    char buf[512];
    for (;;) {
      const ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) continue;  // receivers send nothing we use; discard
      if (n == 0) return true;
      return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    }
  }

  void Close() override { fd_.Close(); }
  void Interrupt() override { fd_.Shutdown(); }

 private:
  const std::string host_, port_;
  const int type_;
  const std::chrono::milliseconds timeout_;
  const std::string target_;
  InterruptibleFd fd_;
};

Status WriteAll(int fd, std::string_view bytes, const std::string& what) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(Errno(("write to " + what).c_str()));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

class FileTransport final : public Transport {
 public:
  FileTransport(std::string path, uint64_t max_bytes, uint32_t max_files)
      : path_(std::move(path)), max_bytes_(max_bytes), max_files_(max_files) {}
  ~FileTransport() override { Close(); }

  bool per_message() const override { return true; }
  bool connected() const override { return fd_ >= 0; }
  const std::string& target() const override { return path_; }

  Status Connect() override {
    if (fd_ >= 0) return Status::Ok();
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) return Status::IoError(Errno(("opening " + path_).c_str()));
    struct stat st{};
    size_ = ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    return Status::Ok();
  }

  Status Send(std::string_view bytes) override {
    if (fd_ < 0) return Status::IoError("not open");
    if (max_bytes_ > 0 && size_ > 0 && size_ + bytes.size() > max_bytes_) {
      if (Status s = Rotate(); !s.ok()) return s;
    }
    if (Status s = WriteAll(fd_, bytes, path_); !s.ok()) return s;
    size_ += bytes.size();
    return Status::Ok();
  }

  void Close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  Status Rotate() {
    Close();
    std::error_code ec;
    if (max_files_ == 0) {
      std::filesystem::remove(path_, ec);
    } else {
      std::filesystem::remove(path_ + "." + std::to_string(max_files_), ec);
      for (uint32_t i = max_files_; i > 1; --i) {
        std::filesystem::rename(path_ + "." + std::to_string(i - 1), path_ + "." + std::to_string(i), ec);
      }
      std::filesystem::rename(path_, path_ + ".1", ec);
      if (ec) return Status::IoError("rotating " + path_ + ": " + ec.message());
    }
    return Connect();
  }

  const std::string path_;
  const uint64_t max_bytes_;
  const uint32_t max_files_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

class FdTransport final : public Transport {
 public:
  FdTransport(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  bool connected() const override { return true; }
  const std::string& target() const override { return name_; }
  Status Connect() override { return Status::Ok(); }
  Status Send(std::string_view bytes) override { return WriteAll(fd_, bytes, name_); }
  void Close() override {}

 private:
  int fd_;
  std::string name_;
};

std::string SslError(const std::string& what) {
  std::string out = what;
  const unsigned long e = ERR_get_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

class TlsTransport final : public Transport {
 public:
  TlsTransport(std::string host, std::string port, TlsClientOptions tls, std::chrono::milliseconds timeout)
      : host_(std::move(host)), port_(std::move(port)), tls_(std::move(tls)), timeout_(timeout),
        target_("tls://" + Target(host_, port_)) {}
  ~TlsTransport() override {
    Close();
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }

  bool connected() const override { return ssl_ != nullptr; }
  const std::string& target() const override { return target_; }

  Status Connect() override {
    if (ssl_ != nullptr) return Status::Ok();
    if (ctx_ == nullptr) {
      if (Status s = MakeContext(); !s.ok()) return s;
    }
    Result<int> fd = ConnectSocket(host_, port_, SOCK_STREAM, timeout_);
    if (!fd.ok()) return fd.status();
    timeval tv{};
    tv.tv_sec = timeout_.count() / 1000;
    tv.tv_usec = (timeout_.count() % 1000) * 1000;
    ::setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));  // bounds the handshake
    int one = 1;
    ::setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::setsockopt(*fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    fd_.Set(*fd);  // so that Interrupt() can end a handshake that hangs
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, *fd);
    const std::string name = tls_.server_name.empty() ? host_ : tls_.server_name;
    SSL_set_tlsext_host_name(ssl, name.c_str());
    if (!tls_.insecure_skip_verify) SSL_set1_host(ssl, name.c_str());
    if (SSL_connect(ssl) != 1) {
      const long verify = SSL_get_verify_result(ssl);
      std::string why = SslError("TLS handshake with " + target_ + " failed");
      if (verify != X509_V_OK) why += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
      SSL_free(ssl);
      fd_.Close();
      return Status::IoError(why);
    }
    ssl_ = ssl;
    written_ = 0;
    return Status::Ok();
  }

  Status Send(std::string_view bytes) override {
    if (ssl_ == nullptr) return Status::IoError("not connected");
    size_t done = 0;
    while (done < bytes.size()) {
      size_t n = 0;
      if (SSL_write_ex(ssl_, bytes.data() + done, bytes.size() - done, &n) != 1) {
        return Status::IoError(SslError("TLS write to " + target_ + " failed"));
      }
      done += n;
    }
    written_ += bytes.size();
    return Status::Ok();
  }

  uint64_t Unacknowledged() override {
    if (fd_.get() < 0) return 0;
    int pending = 0;
    if (::ioctl(fd_.get(), SIOCOUTQ, &pending) != 0) return UINT64_MAX;
    return pending == 0 ? 0 : written_;
  }

  bool PeerClosed() override {
    if (ssl_ == nullptr) return false;
    // Read whatever the receiver sent (session tickets, close_notify) without blocking.
    const int flags = ::fcntl(fd_.get(), F_GETFL);
    ::fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK);
    bool closed = false;
    for (;;) {
      char buf[512];
      size_t n = 0;
      if (SSL_read_ex(ssl_, buf, sizeof(buf), &n) == 1) continue;
      const int err = SSL_get_error(ssl_, 0);
      closed = err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
      break;
    }
    ERR_clear_error();
    ::fcntl(fd_.get(), F_SETFL, flags);
    return closed;
  }

  // The SSL object does not own the descriptor (SSL_set_fd), so it is freed first.
  void Close() override {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ssl_ = nullptr;
    fd_.Close();
  }

  void Interrupt() override { fd_.Shutdown(); }

 private:
  Status MakeContext() {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) return Status::IoError(SslError("TLS context"));
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
    const bool loaded = tls_.ca.empty() ? SSL_CTX_set_default_verify_paths(ctx) == 1
                                        : SSL_CTX_load_verify_locations(ctx, tls_.ca.c_str(), nullptr) == 1;
    if (!loaded) {
      SSL_CTX_free(ctx);
      return Status::IoError(SslError("loading CA " + (tls_.ca.empty() ? std::string("(system)") : tls_.ca)));
    }
    if (!tls_.cert.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx, tls_.cert.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx, tls_.key.c_str(), SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(ctx);
        return Status::IoError(SslError("loading client certificate " + tls_.cert));
      }
    }
    SSL_CTX_set_verify(ctx, tls_.insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
    ctx_ = ctx;
    return Status::Ok();
  }

  const std::string host_, port_;
  const TlsClientOptions tls_;
  const std::chrono::milliseconds timeout_;
  const std::string target_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  InterruptibleFd fd_;
  uint64_t written_ = 0;  // plaintext bytes sent on this connection
};

}  // namespace

std::unique_ptr<Transport> NewTlsTransport(std::string host, std::string port, TlsClientOptions tls,
                                           std::chrono::milliseconds io_timeout) {
  return std::make_unique<TlsTransport>(std::move(host), std::move(port), std::move(tls), io_timeout);
}

std::unique_ptr<Transport> NewTcpTransport(std::string host, std::string port, std::chrono::milliseconds io_timeout) {
  return std::make_unique<SocketTransport>(std::move(host), std::move(port), SOCK_STREAM, io_timeout);
}
std::unique_ptr<Transport> NewUdpTransport(std::string host, std::string port) {
  return std::make_unique<SocketTransport>(std::move(host), std::move(port), SOCK_DGRAM, std::chrono::seconds(10));
}
std::unique_ptr<Transport> NewFileTransport(std::string path, uint64_t max_bytes, uint32_t max_files) {
  return std::make_unique<FileTransport>(std::move(path), max_bytes, max_files);
}
std::unique_ptr<Transport> NewFdTransport(int fd, std::string name) {
  return std::make_unique<FdTransport>(fd, std::move(name));
}

}  // namespace iocd
