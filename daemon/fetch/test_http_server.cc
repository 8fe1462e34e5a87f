#include "fetch/test_http_server.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zlib.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <memory>
#include <stdexcept>

namespace iocd::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// Reads one request and answers it on `stream` (plain socket or TLS stream).
template <typename Stream>
bool Exchange(Stream& stream, const TestHandler& handler, TestRequest* recorded) {
  beast::error_code ec;
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  http::read(stream, buffer, req, ec);
  if (ec) return false;
  recorded->method = std::string(req.method_string());
  recorded->target = std::string(req.target());
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    recorded->headers[name] = std::string(field.value());
  }
  TestResponse response = handler(*recorded);

  http::response<http::string_body> res;
  res.version(11);
  res.result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : response.headers) res.set(name, value);
  res.set(http::field::connection, "close");
  res.body() = std::move(response.body);
  if (response.announced_length != 0) {
    // Announce more than is sent; the client must reject on the header alone.
    res.set(http::field::content_length, std::to_string(response.announced_length));
    http::response_serializer<http::string_body> sr{res};
    http::write_header(stream, sr, ec);
    return !ec;
  }
  if (response.chunked) {
    res.chunked(true);
  } else {
    res.prepare_payload();
  }
  http::write(stream, res, ec);
  return !ec;
}

// Half-closes and waits for the client to close, so the kernel never answers unread data
// with a reset that could destroy the response in flight.
void DrainAndClose(tcp::socket& socket) {
  beast::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  char sink[4096];
  while (!ec) socket.read_some(asio::buffer(sink), ec);
  socket.close(ec);
}

}  // namespace

TestHttpServer::TestHttpServer(TestHandler handler, ssl::context* tls)
    : handler_(std::move(handler)), tls_(tls), acceptor_(ioc_) {
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { Serve(); });
}

TestHttpServer::~TestHttpServer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  // Wake the blocking accept() with a connection of our own; Serve() then sees stopping_.
  asio::io_context ioc;
  tcp::socket wake(ioc);
  beast::error_code ec;
  wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  thread_.join();
}

std::string TestHttpServer::Url(std::string_view path, std::string_view host) const {
  return std::string(tls_ != nullptr ? "https://" : "http://") + std::string(host) + ":" +
         std::to_string(port_) + std::string(path);
}

std::vector<TestRequest> TestHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void TestHttpServer::Serve() {
  for (;;) {
    tcp::socket socket(ioc_);
    beast::error_code ec;
    acceptor_.accept(socket, ec);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (ec) continue;
    ServeConnection(std::move(socket));
  }
}

void TestHttpServer::ServeConnection(tcp::socket socket) {
  // The request is recorded before it is answered, so a client that has its answer can
  // rely on requests() listing it.
  TestHandler record_then_answer = [this](const TestRequest& req) {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
    }
    return handler_(req);
  };
  TestRequest request;
  if (tls_ == nullptr) {
    Exchange(socket, record_then_answer, &request);
    DrainAndClose(socket);
  } else {
    ssl::stream<tcp::socket&> stream(socket, *tls_);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (!ec) Exchange(stream, record_then_answer, &request);
    DrainAndClose(socket);
  }
}

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL failed: ") + what);
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, value);
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

// issuer == nullptr: self-signed.
X509Ptr MakeCert(EVP_PKEY* key, const char* common_name, long serial, X509* issuer,
                 EVP_PKEY* issuer_key, bool is_ca, const char* san) {
  X509Ptr cert(X509_new());
  Check(cert != nullptr, "X509_new");
  Check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  Check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial) == 1, "serial");
  // Validity is generous on both sides so a skewed clock cannot fail the tests.
  Check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24 * 3600) != nullptr, "notBefore");
  Check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7 * 24 * 3600) != nullptr, "notAfter");
  Check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name), -1, -1,
                                   0) == 1,
        "CN");
  X509* signer = issuer != nullptr ? issuer : cert.get();
  Check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) == 1, "issuer");
  if (is_ca) {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    AddExtension(cert.get(), signer, NID_subject_alt_name, san);
    AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  }
  Check(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

template <typename WriteFn>
std::string ToPem(WriteFn write) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  Check(bio != nullptr, "BIO_new");
  Check(write(bio.get()) == 1, "PEM write");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

TestPki MakeTestPki(const char* server_san) {
  PkeyPtr ca_key(EVP_EC_gen("P-256"));
  Check(ca_key != nullptr, "EVP_EC_gen (CA)");
  PkeyPtr server_key(EVP_EC_gen("P-256"));
  Check(server_key != nullptr, "EVP_EC_gen (server)");
  X509Ptr ca = MakeCert(ca_key.get(), "iocd test CA", 1, nullptr, ca_key.get(), true, nullptr);
  X509Ptr server =
      MakeCert(server_key.get(), "localhost", 2, ca.get(), ca_key.get(), false, server_san);
  TestPki pki;
  pki.ca_cert_pem = ToPem([&](BIO* b) { return PEM_write_bio_X509(b, ca.get()); });
  pki.server_cert_pem = ToPem([&](BIO* b) { return PEM_write_bio_X509(b, server.get()); });
  pki.server_key_pem = ToPem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, server_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  return pki;
}

std::string GzipForTest(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

}  // namespace iocd::testing
