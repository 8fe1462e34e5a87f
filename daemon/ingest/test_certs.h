// Test-only: a throwaway PKI made with OpenSSL's C API at test time — a CA, a server
// certificate for 127.0.0.1/localhost and a client certificate, both signed by the CA —
// written as PEM files into a directory. Keys are P-256; certificates are valid for a day.
#pragma once

#include <string>

namespace iocd::testing {

struct TestPki {
  std::string ca_cert;      // CA certificate (PEM file path)
  std::string server_cert;  // server chain: leaf (CN=localhost, SAN 127.0.0.1, localhost)
  std::string server_key;
  std::string client_cert;  // CN=iocd-test-client
  std::string client_key;
  std::string other_ca_cert;  // an unrelated CA, for "untrusted" cases
  std::string other_client_cert;  // signed by other_ca
  std::string other_client_key;
};

// Writes the files into `dir` (which must exist). Aborts the test binary on an OpenSSL
// failure: it only happens when OpenSSL itself is broken.
TestPki MakeTestPki(const std::string& dir);

}  // namespace iocd::testing
