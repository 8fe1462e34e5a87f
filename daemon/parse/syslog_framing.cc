#include "parse/syslog_framing.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace iocd {
namespace {

// RFC 6587 allows any length; nine digits (< 1 GB) is far above any sane message limit,
// and a longer digit run is far more likely a timestamp at the start of a plain line.
constexpr size_t kMaxOctetCountDigits = 9;

constexpr std::string_view kLeadingZeroError = "octet count has a leading zero";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Index of the first LF or NUL in p[0, n), or n when there is none.
size_t FindTerminator(const char* p, size_t n) {
  const void* lf = std::memchr(p, '\n', n);
  size_t end = lf ? static_cast<size_t>(static_cast<const char*>(lf) - p) : n;
  // NUL terminators are rare; look for one only before the LF.
  const void* nul = std::memchr(p, '\0', end);
  return nul ? static_cast<size_t>(static_cast<const char*>(nul) - p) : end;
}

}  // namespace

SyslogFrameDecoder::SyslogFrameDecoder(size_t max_message_bytes)
    : max_(std::max<size_t>(max_message_bytes, 1)),
      oversize_error_("message exceeds " + std::to_string(max_) + " bytes") {}

void SyslogFrameDecoder::Append(std::string_view bytes) {
  counters_.bytes += bytes.size();
  // While a frame is being discarded nothing is buffered (see DiscardBuffered), so its
  // bytes are dropped here as they arrive instead of being copied.
  if (state_ == State::kSkipOctets) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(skip_remaining_, bytes.size()));
    bytes.remove_prefix(n);
    base_offset_ += n;
    skip_remaining_ -= n;
    if (skip_remaining_ == 0) state_ = State::kFrameStart;
  } else if (state_ == State::kDiscardLine) {
    size_t t = FindTerminator(bytes.data(), bytes.size());
    size_t n = t == bytes.size() ? t : t + 1;
    bytes.remove_prefix(n);
    base_offset_ += n;
    if (t < n) state_ = State::kFrameStart;
  }
  if (bytes.empty()) return;
  // Lazy compaction: consumed bytes are dropped only now, when views into them may be
  // invalidated. What moves is at most one incomplete frame.
  if (start_ > 0) {
    buffer_.erase(0, start_);
    base_offset_ += start_;
    start_ = 0;
  }
  buffer_.append(bytes);
}

SyslogFrameDecoder::Frame SyslogFrameDecoder::Next() { return Decode(/*at_end=*/false); }

SyslogFrameDecoder::Frame SyslogFrameDecoder::Finish() { return Decode(/*at_end=*/true); }

void SyslogFrameDecoder::Consume(size_t n) {
  assert(n <= buffer_.size() - start_);
  start_ += n;
  scanned_ = 0;
}

void SyslogFrameDecoder::DiscardBuffered() {
  size_t avail = buffer_.size() - start_;
  if (state_ == State::kSkipOctets) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(skip_remaining_, avail));
    start_ += n;
    skip_remaining_ -= n;
    if (skip_remaining_ == 0) state_ = State::kFrameStart;
  } else if (state_ == State::kDiscardLine) {
    size_t t = FindTerminator(buffer_.data() + start_, avail);
    if (t < avail) {
      start_ += t + 1;
      state_ = State::kFrameStart;
    } else {
      start_ += avail;
    }
  }
  scanned_ = 0;
  // The consumed bytes stay where they are until the next Append() compacts them: messages
  // returned since that Append() are views into them (the contract: only Append()
  // invalidates views), and a reset here would overwrite their first byte.
}

SyslogFrameDecoder::Frame SyslogFrameDecoder::Error(uint64_t offset, std::string_view reason) {
  return Frame{Kind::kError, {}, reason, offset};
}

SyslogFrameDecoder::Frame SyslogFrameDecoder::Decode(bool at_end) {
  for (;;) {
    if (state_ != State::kFrameStart) {
      DiscardBuffered();
      if (state_ != State::kFrameStart) return Frame{Kind::kNeedMore};
    }
    const size_t avail = buffer_.size() - start_;
    if (avail == 0) return Frame{Kind::kNeedMore};
    const char* p = buffer_.data() + start_;
    const uint64_t frame_offset = base_offset_ + start_;

    if (IsDigit(p[0])) {
      size_t digits = 0;
      while (digits < avail && digits <= kMaxOctetCountDigits && IsDigit(p[digits])) ++digits;
      if (digits == avail && digits <= kMaxOctetCountDigits && !at_end) {
        return Frame{Kind::kNeedMore};  // cannot tell the framing yet
      }
      if (digits < avail && digits <= kMaxOctetCountDigits && p[digits] == ' ') {
        if (p[0] == '0') {
          ++counters_.bad_octet_count;
          state_ = State::kDiscardLine;
          DiscardBuffered();
          return Error(frame_offset, kLeadingZeroError);
        }
        uint64_t len = 0;
        for (size_t i = 0; i < digits; ++i) len = len * 10 + static_cast<uint64_t>(p[i] - '0');
        const size_t header = digits + 1;
        if (len > max_) {
          ++counters_.oversized;
          Consume(header);
          state_ = State::kSkipOctets;
          skip_remaining_ = len;
          DiscardBuffered();
          return Error(frame_offset, oversize_error_);
        }
        if (avail - header >= len) {
          Consume(header + len);
          ++counters_.messages;
          return Frame{Kind::kMessage, std::string_view(p + header, len), {}, frame_offset};
        }
        if (!at_end) return Frame{Kind::kNeedMore};
        ++counters_.incomplete_at_close;
        error_ = "connection closed inside an octet-counted frame: got " +
                 std::to_string(avail - header) + " of " + std::to_string(len) + " bytes";
        Consume(avail);
        return Error(frame_offset, error_);
      }
      // Digits not followed by SP: a plain line that happens to start with a digit.
    }

    // Non-transparent framing. A message of max_ bytes takes at most max_ + 2 bytes with
    // its CR and terminator, so looking further is never needed to decide.
    const size_t limit = std::min(avail, max_ + 2);
    const size_t t = scanned_ + FindTerminator(p + scanned_, limit - scanned_);
    if (t < limit) {
      size_t len = (t > 0 && p[t - 1] == '\r') ? t - 1 : t;
      Consume(t + 1);
      if (len > max_) {
        ++counters_.oversized;
        return Error(frame_offset, oversize_error_);
      }
      if (len == 0) continue;  // blank line
      ++counters_.messages;
      return Frame{Kind::kMessage, std::string_view(p, len), {}, frame_offset};
    }
    scanned_ = limit;
    // No terminator yet. The frame is certainly too long once it holds max_ + 2 bytes, or
    // max_ + 1 bytes whose last is not a CR that an LF could still strip.
    if (avail >= max_ + 2 || (avail == max_ + 1 && p[max_] != '\r')) {
      ++counters_.oversized;
      state_ = State::kDiscardLine;
      DiscardBuffered();
      return Error(frame_offset, oversize_error_);
    }
    if (!at_end) return Frame{Kind::kNeedMore};
    // End of stream terminates the last line.
    size_t len = p[avail - 1] == '\r' ? avail - 1 : avail;
    Consume(avail);
    if (len == 0) continue;
    ++counters_.messages;
    return Frame{Kind::kMessage, std::string_view(p, len), {}, frame_offset};
  }
}

}  // namespace iocd
