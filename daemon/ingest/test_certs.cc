#include "ingest/test_certs.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace iocd::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test PKI: %s failed\n", what);
    std::abort();
  }
}

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  Check(key != nullptr, "EVP_EC_gen");
  return key;
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

// Issues a certificate for `key` named `cn`, signed by issuer (self-signed when null).
CertPtr Issue(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca, const char* san,
              long serial) {
  CertPtr cert(X509_new(), X509_free);
  Check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    AddExt(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExt(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
    AddExt(cert.get(), signer, NID_authority_key_identifier, "keyid");
    if (san) AddExt(cert.get(), signer, NID_subject_alt_name, san);
  }
  Check(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

void WriteCert(const std::string& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  Check(f != nullptr, "fopen");
  Check(PEM_write_X509(f, cert) == 1, "PEM_write_X509");
  std::fclose(f);
}

void WriteKey(const std::string& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  Check(f != nullptr, "fopen");
  Check(PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "PEM_write_PrivateKey");
  std::fclose(f);
}

}  // namespace

TestPki MakeTestPki(const std::string& dir) {
  TestPki pki;
  pki.ca_cert = dir + "/ca.pem";
  pki.server_cert = dir + "/server.pem";
  pki.server_key = dir + "/server.key";
  pki.client_cert = dir + "/client.pem";
  pki.client_key = dir + "/client.key";
  pki.other_ca_cert = dir + "/other-ca.pem";
  pki.other_client_cert = dir + "/other-client.pem";
  pki.other_client_key = dir + "/other-client.key";

  KeyPtr ca_key = NewKey();
  CertPtr ca = Issue(ca_key.get(), "iocd test CA", nullptr, nullptr, true, nullptr, 1);
  KeyPtr server_key = NewKey();
  CertPtr server =
      Issue(server_key.get(), "localhost", ca.get(), ca_key.get(), false, "IP:127.0.0.1,DNS:localhost", 2);
  KeyPtr client_key = NewKey();
  CertPtr client = Issue(client_key.get(), "iocd-test-client", ca.get(), ca_key.get(), false, nullptr, 3);
  KeyPtr other_ca_key = NewKey();
  CertPtr other_ca = Issue(other_ca_key.get(), "unrelated CA", nullptr, nullptr, true, nullptr, 4);
  KeyPtr other_key = NewKey();
  CertPtr other = Issue(other_key.get(), "stranger", other_ca.get(), other_ca_key.get(), false, nullptr, 5);

  WriteCert(pki.ca_cert, ca.get());
  WriteCert(pki.server_cert, server.get());
  WriteKey(pki.server_key, server_key.get());
  WriteCert(pki.client_cert, client.get());
  WriteKey(pki.client_key, client_key.get());
  WriteCert(pki.other_ca_cert, other_ca.get());
  WriteCert(pki.other_client_cert, other.get());
  WriteKey(pki.other_client_key, other_key.get());
  return pki;
}

}  // namespace iocd::testing
