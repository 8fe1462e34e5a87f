#include "common/status.h"

namespace iocd {

std::string Status::ToString() const {
  std::string_view name;
  switch (code_) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: name = "invalid argument"; break;
    case StatusCode::kNotFound: name = "not found"; break;
    case StatusCode::kIoError: name = "I/O error"; break;
    case StatusCode::kCorruption: name = "corruption"; break;
    case StatusCode::kUnavailable: name = "unavailable"; break;
    case StatusCode::kInternal: name = "internal error"; break;
  }
  std::string out(name);
  out += ": ";
  out += message_;
  return out;
}

}  // namespace iocd
