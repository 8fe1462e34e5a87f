#include "iocgen.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "extract/extractor.h"

namespace iocd::iocgen {
namespace {

uint64_t SplitMix(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// A bijection on 32-bit values keyed by `key`: distinct inputs give distinct outputs.
uint32_t Permute32(uint32_t x, uint32_t key) {
  for (int round = 0; round < 3; ++round) {
    x ^= key;
    x *= 0x9e3779b1u;
    x ^= x >> 15;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
  }
  return x;
}

constexpr std::string_view kWords[] = {
    "secure",  "mail",   "login",  "update", "cloud", "cdn",    "portal", "account", "verify",
    "service", "online", "web",    "data",   "sync",  "store",  "files",  "drive",   "office",
    "bank",    "pay",    "shop",   "news",   "media", "static", "api",    "app",     "auth",
    "client",  "track",  "stat",   "global", "net",   "host",   "micro",  "smart",   "fast",
    "green",   "blue",   "red",    "star",   "alpha", "delta",  "nova",   "zen",     "pixel",
    "apex",    "orbit",  "vertex", "prime",  "core"};
constexpr std::string_view kTlds[] = {"com", "net", "org", "info", "ru", "cn",
                                      "io",  "xyz", "top", "biz",  "de", "fr"};
constexpr std::string_view kPathWords[] = {"gate",       "index",   "load",   "panel",  "admin",
                                           "images",     "js",      "css",    "api",    "v1",
                                           "v2",         "bin",     "files",  "update", "get",
                                           "wp-content", "uploads", "assets", "news",   "static"};
constexpr std::string_view kPathExt[] = {".php", ".js",  ".html", ".png",
                                         ".jpg", ".exe", ".zip",  ""};
constexpr std::string_view kUserAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 13_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Safari/605",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Microsoft-CryptoAPI/10.0", "curl/7.88.1"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::string_view kHex = "0123456789abcdef";
// GenerateIndicators makes IndicatorType values 1 (ipv4) .. 9 (sha256).
constexpr size_t kGeneratedTypes = 9;

template <typename T, size_t N>
const T& Pick(Rng& rng, const T (&items)[N]) {
  return items[rng.Below(N)];
}
template <typename T>
const T& Pick(Rng& rng, const std::vector<T>& items) {
  return items[rng.Below(items.size())];
}

std::string Base36(uint64_t n) {
  std::string s;
  do {
    s.push_back("0123456789abcdefghijklmnopqrstuvwxyz"[n % 36]);
    n /= 36;
  } while (n != 0);
  return s;
}

void AppendHex(Rng& rng, size_t digits, std::string* out) {
  uint64_t bits = 0;
  for (size_t i = 0; i < digits; ++i) {
    if (i % 16 == 0) bits = rng.Next();
    out->push_back(kHex[bits & 15]);
    bits >>= 4;
  }
}

std::string Ipv6Text(const uint8_t* bytes) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, bytes, buf, sizeof buf);
  return buf;
}

std::string Ipv4Text(uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

// A public-looking IPv4 address: first octet 1..223, not 10, 100, 127, 169, 172 or 192.
bool PublicFirstOctet(uint32_t a) {
  uint32_t first = a >> 24;
  return first >= 1 && first <= 223 && first != 10 && first != 100 && first != 127 &&
         first != 169 && first != 172 && first != 192;
}

std::string RandomHost(Rng& rng, uint64_t unique) {
  std::string host;
  if (rng.Below(4) == 0) {
    host += Pick(rng, kWords);
    host += '.';
  }
  host += Pick(rng, kWords);
  host += Pick(rng, kWords);
  host += '-';
  host += Base36(unique);
  host += '.';
  host += Pick(rng, kTlds);
  return host;
}

std::string RandomPath(Rng& rng) {
  std::string path;
  const uint64_t depth = 1 + rng.Below(3);
  for (uint64_t i = 0; i < depth; ++i) {
    path += '/';
    path += Pick(rng, kPathWords);
  }
  path += '/';
  path += Base36(rng.Below(1u << 30));
  path += Pick(rng, kPathExt);
  if (rng.Below(3) == 0) path += fmt::format("?id={}", rng.Below(100000));
  return path;
}

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& word : s_) word = SplitMix(&x);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Rng::Below(uint64_t n) {
  return static_cast<uint64_t>((static_cast<__uint128_t>(Next()) * n) >> 64);
}

double Rng::Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

IndicatorMix IndicatorMix::Default() {
  IndicatorMix mix;
  auto set = [&](IndicatorType t, double w) { mix.weight[static_cast<size_t>(t)] = w; };
  set(IndicatorType::kIpv4, 30);
  set(IndicatorType::kIpv6, 4);
  set(IndicatorType::kCidr4, 4);
  set(IndicatorType::kCidr6, 2);
  set(IndicatorType::kDomain, 25);
  set(IndicatorType::kUrl, 15);
  set(IndicatorType::kMd5, 7);
  set(IndicatorType::kSha1, 4);
  set(IndicatorType::kSha256, 9);
  return mix;
}

Result<IndicatorMix> IndicatorMix::Parse(std::string_view text) {
  IndicatorMix mix;
  double total = 0;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return Status::InvalidArgument("mix entry '" + std::string(item) + "' is not type=weight");
    std::string_view name = item.substr(0, eq);
    std::optional<IndicatorType> type;
    for (IndicatorType t : kAllIndicatorTypes) {
      if (TypeName(t) == name && static_cast<size_t>(t) <= kGeneratedTypes) type = t;
    }
    if (!type) {
      return Status::InvalidArgument(
          "mix: unknown type '" + std::string(name) +
          "' (ipv4, ipv6, cidr4, cidr6, domain, url, md5, sha1, sha256)");
    }
    std::string weight(item.substr(eq + 1));
    char* end = nullptr;
    double w = std::strtod(weight.c_str(), &end);
    if (weight.empty() || *end != '\0' || !(w >= 0)) {
      return Status::InvalidArgument("mix: bad weight '" + weight + "' for " + std::string(name));
    }
    mix.weight[static_cast<size_t>(*type)] = w;
    total += w;
  }
  if (!(total > 0)) return Status::InvalidArgument("mix: weights sum to 0");
  return mix;
}

Status GenerateIndicators(const IndicatorGenOptions& options, std::ostream& out) {
  Rng rng(options.seed);
  double total = 0;
  for (size_t t = 1; t <= kGeneratedTypes; ++t) total += options.mix.weight[t];
  if (!(total > 0)) return Status::InvalidArgument("indicator mix has no weight");
  uint64_t seed_state = options.seed ^ 0x5eed;
  const uint32_t key = static_cast<uint32_t>(SplitMix(&seed_state));
  uint32_t ipv4_counter = 0;
  uint64_t unique = 0;
  std::string buf;
  buf.reserve(1 << 20);
  for (uint64_t i = 0; i < options.count; ++i) {
    double r = rng.Unit() * total;
    size_t type = 1;
    for (; type < kGeneratedTypes; ++type) {
      if (r < options.mix.weight[type]) break;
      r -= options.mix.weight[type];
    }
    while (options.mix.weight[type] == 0)
      type = type % kGeneratedTypes + 1;  // rounding at the top end
    switch (static_cast<IndicatorType>(type)) {
      case IndicatorType::kIpv4: {
        uint32_t a;
        do a = Permute32(ipv4_counter++, key);
        while (!PublicFirstOctet(a));
        buf += Ipv4Text(a);
        break;
      }
      case IndicatorType::kIpv6: {
        uint8_t b[16];
        for (int j = 0; j < 16; j += 8) {
          uint64_t v = rng.Next();
          std::memcpy(b + j, &v, 8);
        }
        b[0] = 0x20 | (b[0] & 0x0f);  // 2000::/4, global unicast
        buf += Ipv6Text(b);
        break;
      }
      case IndicatorType::kCidr4: {
        static constexpr int kLens[] = {16, 20, 22, 24, 24, 24, 25, 26, 27, 28, 29, 30};
        int len = Pick(rng, kLens);
        uint32_t a;
        do a = static_cast<uint32_t>(rng.Next());
        while (!PublicFirstOctet(a));
        a &= ~((uint32_t{1} << (32 - len)) - 1);
        buf += fmt::format("{}/{}", Ipv4Text(a), len);
        break;
      }
      case IndicatorType::kCidr6: {
        static constexpr int kLens[] = {32, 48, 48, 56, 64, 64};
        int len = Pick(rng, kLens);
        uint8_t b[16] = {};
        uint64_t hi = rng.Next();
        for (int j = 0; j < 8; ++j) b[j] = static_cast<uint8_t>(hi >> (56 - 8 * j));
        b[0] = 0x20 | (b[0] & 0x0f);
        for (int bit = len; bit < 128; ++bit)
          b[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
        buf += fmt::format("{}/{}", Ipv6Text(b), len);
        break;
      }
      case IndicatorType::kDomain:
        buf += RandomHost(rng, unique++);
        break;
      case IndicatorType::kUrl:
        buf += rng.Below(4) == 0 ? "https://" : "http://";
        buf += RandomHost(rng, unique++);
        buf += RandomPath(rng);
        break;
      case IndicatorType::kMd5:
        AppendHex(rng, 32, &buf);
        break;
      case IndicatorType::kSha1:
        AppendHex(rng, 40, &buf);
        break;
      case IndicatorType::kSha256:
        AppendHex(rng, 64, &buf);
        break;
      default:
        break;
    }
    buf += '\n';
    if (buf.size() >= (1 << 20) - 512) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  out.flush();
  if (!out) return Status::IoError("write failed");
  return Status::Ok();
}

Result<std::unique_ptr<LogGenerator>> LogGenerator::Create(const std::vector<Indicator>& indicators,
                                                           uint64_t seed) {
  std::unique_ptr<LogGenerator> gen(new LogGenerator());
  Status s = gen->Init(indicators, seed);
  if (!s.ok()) return s;
  return gen;
}

bool LogGenerator::Matches(std::string_view text) const {
  thread_local std::vector<Observable> observables;
  thread_local std::vector<IndexMatch> matches;
  observables.clear();
  ExtractObservables(text, &observables);
  for (const Observable& o : observables) {
    matches.clear();
    index_->Lookup(o.indicator, &matches);
    if (!matches.empty()) return true;
  }
  return false;
}

Status LogGenerator::Init(const std::vector<Indicator>& indicators, uint64_t seed) {
  rng_ = Rng(seed);
  IndexBuilder builder;
  for (const Indicator& ind : indicators)
    builder.Add(ind, 0).IgnoreError();  // bad keys cannot be planted anyway
  index_ = std::move(builder).Build();

  // Hit candidates: at most 64k, sampled evenly, each checked to be found by the extractor.
  constexpr size_t kMaxCandidates = 1 << 16;
  const size_t step = std::max<size_t>(1, indicators.size() / kMaxCandidates);
  for (size_t i = 0; i < indicators.size(); i += step) {
    const Indicator& ind = indicators[i];
    Candidate c{ind.type, {}, ind.key};
    switch (ind.type) {
      case IndicatorType::kCidr4:
      case IndicatorType::kCidr6:
        c.text = PlantedText(c);
        break;
      case IndicatorType::kUrl:
        c.text = "http://" + ind.Display();
        break;
      default:
        c.text = ind.Display();
    }
    if (!Matches(" " + c.text + " ")) continue;
    if (ind.type != IndicatorType::kCidr4 && ind.type != IndicatorType::kCidr6) c.key.clear();
    candidates_.push_back(std::move(c));
  }

  // Pools of values that match nothing. A value that does match is drawn again.
  constexpr size_t kPool = 1 << 16;
  auto fill = [&](std::vector<std::string>* pool, const char* what, auto make) -> Status {
    uint64_t attempts = 0;
    while (pool->size() < kPool) {
      if (++attempts > 16 * kPool) {
        return Status::InvalidArgument(
            std::string("the indicator set matches almost every generated ") + what +
            "; cannot generate misses");
      }
      std::string v = make();
      if (!Matches(" " + v + " ")) pool->push_back(std::move(v));
    }
    return Status::Ok();
  };
  uint64_t unique = 1ull << 40;  // disjoint from the names GenerateIndicators makes
  Status s = fill(&clients_, "private address", [&] {
    uint32_t a = static_cast<uint32_t>(rng_.Next());
    switch (rng_.Below(3)) {
      case 0:
        a = (10u << 24) | (a & 0xffffff);
        break;
      case 1:
        a = (192u << 24) | (168u << 16) | (a & 0xffff);
        break;
      default:
        a = (172u << 24) | (16u << 16) | (a & 0xfffff);
        break;
    }
    return Ipv4Text(a);
  });
  if (s.ok()) {
    s = fill(&servers_, "public address", [&] {
      uint32_t a;
      do a = static_cast<uint32_t>(rng_.Next());
      while (!PublicFirstOctet(a));
      return Ipv4Text(a);
    });
  }
  if (s.ok()) {
    s = fill(&ipv6_, "ipv6 address", [&] {
      uint8_t b[16];
      for (int j = 0; j < 16; j += 8) {
        uint64_t v = rng_.Next();
        std::memcpy(b + j, &v, 8);
      }
      b[0] = 0x20 | (b[0] & 0x0f);
      return Ipv6Text(b);
    });
  }
  if (s.ok()) s = fill(&domains_, "domain", [&] { return RandomHost(rng_, unique++); });
  if (s.ok()) {
    s = fill(&urls_, "url", [&] { return "http://" + Pick(rng_, domains_) + RandomPath(rng_); });
  }
  if (s.ok()) {
    s = fill(&hashes_, "hash", [&] {
      static constexpr size_t kDigits[] = {32, 40, 64};
      std::string h;
      AppendHex(rng_, Pick(rng_, kDigits), &h);
      return h;
    });
  }
  return s;
}

std::string LogGenerator::PlantedText(const Candidate& c) {
  if (c.type == IndicatorType::kCidr4) {
    uint32_t net = 0;
    for (int i = 0; i < 4; ++i) net = (net << 8) | static_cast<uint8_t>(c.key[i]);
    int len = static_cast<uint8_t>(c.key[4]);
    uint32_t host_mask = len == 0 ? ~0u : (len >= 32 ? 0u : (uint32_t{1} << (32 - len)) - 1);
    return Ipv4Text(net | (static_cast<uint32_t>(rng_.Next()) & host_mask));
  }
  if (c.type == IndicatorType::kCidr6) {
    uint8_t b[16];
    std::memcpy(b, c.key.data(), 16);
    int len = static_cast<uint8_t>(c.key[16]);
    for (int bit = len; bit < 128; ++bit) {
      if (rng_.Below(2)) b[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
    }
    return Ipv6Text(b);
  }
  return c.text;
}

void LogGenerator::AppendTime(std::string* buf, int style) {
  // A synthetic clock starting 2026-11-01 00:00:00 UTC (1793491200), a few ms per line;
  // the day wraps after the 30th.
  const uint64_t ms = clock_ms_;
  const uint64_t secs = ms / 1000;
  const unsigned h = static_cast<unsigned>(secs / 3600 % 24),
                 m = static_cast<unsigned>(secs / 60 % 60), sec = static_cast<unsigned>(secs % 60);
  const unsigned day = static_cast<unsigned>(secs / 86400 % 30) + 1;
  switch (style) {
    case 0:  // squid: epoch seconds with milliseconds
      fmt::format_to(std::back_inserter(*buf), "{}.{:03}", 1793491200 + secs, ms % 1000);
      break;
    case 1:  // syslog
      fmt::format_to(std::back_inserter(*buf), "{} {:2} {:02}:{:02}:{:02}", kMonths[10], day, h, m,
                     sec);
      break;
    default:  // bind
      fmt::format_to(std::back_inserter(*buf), "{:02}-{}-2026 {:02}:{:02}:{:02}.{:03}", day,
                     kMonths[10], h, m, sec, ms % 1000);
  }
}

const std::string& LogGenerator::PickName(const std::vector<std::string>& pool) {
  if (name_cdf_.empty()) return Pick(rng_, pool);
  const double u = rng_.Unit() * name_cdf_.back();
  const size_t rank = static_cast<size_t>(
      std::upper_bound(name_cdf_.begin(), name_cdf_.end(), u) - name_cdf_.begin());
  return pool[std::min(rank, name_cdf_.size() - 1)];
}

void LogGenerator::AppendLine(bool hit, LogGenStats* stats, std::string* buf) {
  clock_ms_ += 1 + rng_.Below(5);
  const Candidate* planted = nullptr;
  std::string planted_text;
  if (hit) {
    planted = &Pick(rng_, candidates_);
    planted_text = PlantedText(*planted);
    ++stats->hit_lines;
    ++stats->hits_by_type[static_cast<size_t>(planted->type)];
  }
  // The line kind: fixed by the planted type, random for a miss.
  enum Kind { kSquid, kIptables, kCef, kBind } kind;
  if (planted == nullptr) {
    static constexpr Kind kMissKinds[] = {kSquid,    kSquid, kSquid, kSquid, kIptables,
                                          kIptables, kCef,   kBind,  kBind,  kBind};
    kind = Pick(rng_, kMissKinds);
  } else {
    switch (planted->type) {
      case IndicatorType::kIpv4:
      case IndicatorType::kCidr4:
        kind = rng_.Below(2) ? kSquid : kIptables;
        break;
      case IndicatorType::kDomain:
        kind = rng_.Below(2) ? kSquid : kBind;
        break;
      case IndicatorType::kUrl:
        kind = kSquid;
        break;
      default:
        kind = kCef;  // ipv6, cidr6, hashes
    }
  }
  auto out = std::back_inserter(*buf);
  const IndicatorType pt = planted ? planted->type : IndicatorType::kIpv4;
  auto is = [&](std::initializer_list<IndicatorType> types) {
    return planted != nullptr && std::find(types.begin(), types.end(), pt) != types.end();
  };
  switch (kind) {
    case kSquid: {
      AppendTime(buf, 0);
      std::string url;
      if (is({IndicatorType::kUrl})) {
        url = planted_text;
      } else if (is({IndicatorType::kDomain})) {
        url = "http://" + planted_text + RandomPath(rng_);
      } else {
        url = PickName(urls_);
      }
      static constexpr std::string_view kStatus[] = {"TCP_MISS/200", "TCP_HIT/200", "TCP_MISS/304",
                                                     "TCP_DENIED/403", "TCP_TUNNEL/200"};
      fmt::format_to(
          out, " {:6} {} {} {} {} {} - HIER_DIRECT/{} text/html \"{}\"\n", 1 + rng_.Below(3000),
          Pick(rng_, clients_), Pick(rng_, kStatus), 200 + rng_.Below(900000),
          rng_.Below(5) ? "GET" : "POST", url,
          is({IndicatorType::kIpv4, IndicatorType::kCidr4}) ? planted_text : Pick(rng_, servers_),
          Pick(rng_, kUserAgents));
      break;
    }
    case kIptables: {
      AppendTime(buf, 1);
      const bool inbound = rng_.Below(2);
      std::string src = inbound ? Pick(rng_, servers_) : Pick(rng_, clients_);
      std::string dst = inbound ? Pick(rng_, clients_) : Pick(rng_, servers_);
      if (is({IndicatorType::kIpv4, IndicatorType::kCidr4})) (inbound ? src : dst) = planted_text;
      fmt::format_to(
          out,
          " fw{:02} kernel: [{}.{:06}] IPTABLES-{}: IN=eth0 OUT=eth1 "
          "MAC=00:1b:21:3a:{:02x}:{:02x}:00:50:56:a2:{:02x}:{:02x}:08:00 SRC={} DST={} LEN={} "
          "TOS=0x00 "
          "PREC=0x00 TTL={} ID={} DF PROTO={} SPT={} DPT={} WINDOW={} RES=0x00 SYN URGP=0\n",
          rng_.Below(8), 100000 + rng_.Below(900000), rng_.Below(1000000),
          rng_.Below(3) ? "DROP" : "ACCEPT", rng_.Below(256), rng_.Below(256), rng_.Below(256),
          rng_.Below(256), src, dst, 40 + rng_.Below(1460), 32 + rng_.Below(96), rng_.Below(65536),
          rng_.Below(4) ? "TCP" : "UDP", 1024 + rng_.Below(64000),
          std::array{22, 53, 80, 123, 443, 445, 3389, 8080}[rng_.Below(8)],
          1024 + rng_.Below(64000));
      break;
    }
    case kCef: {
      AppendTime(buf, 1);
      std::string src = rng_.Below(3) ? Pick(rng_, clients_) : Pick(rng_, ipv6_);
      if (is({IndicatorType::kIpv6, IndicatorType::kCidr6})) src = planted_text;
      std::string hash = Pick(rng_, hashes_);
      if (is({IndicatorType::kMd5, IndicatorType::kSha1, IndicatorType::kSha256}))
        hash = planted_text;
      fmt::format_to(out,
                     " ngfw{:02} CEF:0|Acme|NGFW|6.4.2|{}|File transfer inspected|{}|rt={} src={} "
                     "dst={} spt={} "
                     "dpt=443 proto=TCP act={} app=HTTPS fileHash={} fsize={} suser=user{} "
                     "cs1Label=policy cs1=default-outbound\n",
                     rng_.Below(4), 1000 + rng_.Below(9000), rng_.Below(11),
                     1793491200000 + clock_ms_, src, Pick(rng_, servers_), 1024 + rng_.Below(64000),
                     rng_.Below(4) ? "allowed" : "blocked", hash, rng_.Below(10000000),
                     rng_.Below(5000));
      break;
    }
    case kBind: {
      AppendTime(buf, 2);
      const std::string& name = is({IndicatorType::kDomain}) ? planted_text : PickName(domains_);
      const std::string& client = Pick(rng_, clients_);
      fmt::format_to(out,
                     " queries: info: client @0x7f{:010x} {}#{} ({}): view internal: query: {} IN "
                     "{} +E(0)K ({}) "
                     "latency={}ms edns=1232 cookie=client-good\n",
                     rng_.Below(uint64_t{1} << 40), client, 1024 + rng_.Below(64000), name, name,
                     rng_.Below(4) ? "A" : "AAAA", Pick(rng_, clients_), rng_.Below(400));
      break;
    }
  }
}

Result<LogGenStats> LogGenerator::Generate(const LogGenOptions& options, std::ostream& out) {
  if (!(options.hit_rate >= 0 && options.hit_rate <= 1))
    return Status::InvalidArgument("hit rate must be in 0..1");
  if (options.bytes == 0 && options.lines == 0)
    return Status::InvalidArgument("set a size in bytes or lines");
  if (options.hit_rate > 0 && candidates_.empty()) {
    return Status::InvalidArgument("no indicator of the set can be planted in a log line");
  }
  if (options.name_pool > domains_.size() || options.name_pool > urls_.size())
    return Status::InvalidArgument("name pool must be at most " + std::to_string(domains_.size()));
  if (!(options.name_zipf >= 0 && options.name_zipf <= 10))
    return Status::InvalidArgument("name zipf exponent must be in 0..10");
  name_cdf_.clear();
  double total = 0;
  for (uint64_t rank = 1; rank <= options.name_pool; ++rank) {
    total += std::pow(static_cast<double>(rank), -options.name_zipf);
    name_cdf_.push_back(total);
  }
  LogGenStats stats;
  std::string buf;
  buf.reserve(1 << 20);
  while ((options.lines == 0 || stats.lines < options.lines) &&
         (options.bytes == 0 || stats.bytes < options.bytes)) {
    const size_t before = buf.size();
    AppendLine(options.hit_rate > 0 && rng_.Unit() < options.hit_rate, &stats, &buf);
    stats.bytes += buf.size() - before;
    ++stats.lines;
    if (buf.size() >= (1 << 20) - 1024) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  out.flush();
  if (!out) return Status::IoError("write failed");
  return stats;
}

}  // namespace iocd::iocgen
