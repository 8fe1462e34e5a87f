#include "ingest/replyback.h"

namespace iocd {

std::optional<ReplyBackRequest> ParseReplyBackFlags(std::string_view rest) {
  ReplyBackRequest request;
  bool reply_back = false;
  // Consumes `flag` at the front of rest unless it was seen already.
  auto take = [&rest](std::string_view flag, bool* seen) {
    if (*seen || !rest.starts_with(flag)) return false;
    rest.remove_prefix(flag.size());
    *seen = true;
    return true;
  };
  while (!rest.empty()) {
    if (take(kReplyBackFlag, &reply_back) || take(kSendFinishedFlag, &request.send_finished) ||
        take(kSaveStatisticFlag, &request.save_statistic)) {
      continue;
    }
    if (rest == kReplyBackPing) {
      request.ping = true;
      break;
    }
    return std::nullopt;
  }
  if (!reply_back) return std::nullopt;
  return request;
}

}  // namespace iocd
