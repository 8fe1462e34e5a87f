// ReplyBack: the Kaspersky CyberTrace "ReplyBack" handshake on stream inputs, as pure
// functions on messages (docs/replyback.md).
//
// A client switches its connection to ReplyBack mode by sending, as the FIRST message
// after connecting, a line of concatenated flags: X-KF-ReplyBack (required), optionally
// X-KF-SendFinishedEvent (a LookupFinished line after each event's replies) and
// X-KF-SaveStatistic (accepted; iocd always counts), in any order, optionally followed by
// PING (answered with PONG; CyberTrace's connection test "X-KF-ReplyBackPING"). On a
// ReplyBack connection a later message consisting exactly of PING is answered with PONG
// and is not an event. The flags are recognised in the first message only; any other first
// message leaves the connection in normal mode and is an ordinary event.
//
// Thread safety: pure functions. Errors: none; a line that is not a flags line is an event.
#pragma once

#include <optional>
#include <string_view>

namespace iocd {

inline constexpr std::string_view kReplyBackFlag = "X-KF-ReplyBack";
inline constexpr std::string_view kSendFinishedFlag = "X-KF-SendFinishedEvent";
inline constexpr std::string_view kSaveStatisticFlag = "X-KF-SaveStatistic";
inline constexpr std::string_view kReplyBackPing = "PING";
inline constexpr std::string_view kReplyBackPong = "PONG";
// Sent after each event's replies when X-KF-SendFinishedEvent was asked for.
inline constexpr std::string_view kLookupFinished = "LookupFinished";

struct ReplyBackRequest {
  bool send_finished = false;   // X-KF-SendFinishedEvent
  bool save_statistic = false;  // X-KF-SaveStatistic (no effect in iocd)
  bool ping = false;            // the flags were followed by PING
};

// The request `first_message` makes, or nullopt when it is not a flags line (then it is an
// ordinary event). Each flag may appear once; the framing already removed LF and one CR.
std::optional<ReplyBackRequest> ParseReplyBackFlags(std::string_view first_message);

// True for a ping on a ReplyBack connection: the message is exactly "PING".
inline bool IsReplyBackPing(std::string_view message) { return message == kReplyBackPing; }

}  // namespace iocd
