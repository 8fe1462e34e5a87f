// SyslogFrameDecoder: splits a syslog-over-TCP byte stream into messages (RFC 6587).
//
// Pure and I/O-free, in the style of the Asio HTTP example's request parser: the
// connection appends bytes as they arrive and pulls frames with Next(), which returns a
// message, "need more" or an error; tests drive it with byte strings.
//
// Framing is detected per frame, because senders and relays mix them on one connection:
//   * Octet counting: the frame starts with MSG-LEN SP MSG, MSG-LEN being 1-9 digits
//     without a leading zero. MSG is returned exactly as sent (it may contain LF).
//   * Non-transparent framing: anything else. The message ends at LF or NUL (some senders
//     use NUL); one CR before the terminator is stripped. A frame that starts with digits
//     not followed by a space ("2024-01-01 ...", or 10+ digits such as an epoch timestamp)
//     is such a line. Empty lines are skipped silently.
//   * A digit run with a leading zero followed by SP ("0 ", "012 ") is a bad octet count:
//     reported as one kError, the frame discarded through the next LF or NUL.
// Oversized frames (MSG longer than max_message_bytes) are reported as one kError and
// discarded as their bytes arrive, never buffered whole; decoding resumes after them.
//
// Memory: the decoder buffers at most one incomplete frame. After Next() has returned
// kNeedMore, buffered_bytes() <= max_message_bytes + kMaxFrameOverhead whatever the input.
// An Append() adds its bytes on top of that until Next() drains them, so the bound is the
// caller's read size plus the above; bytes of a frame being discarded are dropped in
// Append() without being buffered.
//
// Ownership: returned message and error views point into the decoder. Message views stay
// valid until the next Append(), so a caller may collect every message one Append()
// yielded before handing them on; error views until the next call. Messages are not
// copied (zero-copy).
// Thread safety: one decoder per connection; not thread-safe.
// Errors: never fails as a whole; a bad frame is a kError with a reason and the stream
// offset of the frame, and decoding continues with the following frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace iocd {

class SyslogFrameDecoder {
 public:
  // The largest message iocd accepts by default: 1 MiB.
  static constexpr size_t kDefaultMaxMessageBytes = 1 << 20;
  // Bytes an incomplete frame may hold beyond its message: a 9-digit MSG-LEN and its SP,
  // or a CR waiting for its LF.
  static constexpr size_t kMaxFrameOverhead = 10;

  enum class Kind { kMessage, kNeedMore, kError };

  struct Frame {
    Kind kind;
    std::string_view message;  // kMessage: the message, framing removed
    std::string_view error;    // kError: why the frame was discarded
    uint64_t offset = 0;       // kMessage/kError: stream offset of the frame's first byte
  };

  // For metrics. Monotonic over the decoder's life.
  struct Counters {
    uint64_t bytes = 0;                // bytes passed to Append()
    uint64_t messages = 0;             // kMessage frames returned
    uint64_t oversized = 0;            // frames longer than max_message_bytes
    uint64_t bad_octet_count = 0;      // MSG-LEN with a leading zero
    uint64_t incomplete_at_close = 0;  // octet-counted frames cut short by Finish()
  };

  // max_message_bytes must be at least 1.
  explicit SyslogFrameDecoder(size_t max_message_bytes = kDefaultMaxMessageBytes);

  SyslogFrameDecoder(const SyslogFrameDecoder&) = delete;
  SyslogFrameDecoder& operator=(const SyslogFrameDecoder&) = delete;

  // Feeds bytes as they arrive. Invalidates views returned earlier.
  void Append(std::string_view bytes);

  // The next frame: kMessage, kNeedMore when the buffered bytes end mid-frame (or there are
  // none), or kError for a discarded frame. Call until kNeedMore after each Append().
  Frame Next();

  // At end of stream, instead of Next(): like Next(), but the end of the stream terminates
  // a final LF-less message ("last line without LF, then close"), and an incomplete
  // octet-counted frame is a kError. Returns kNeedMore once nothing remains, so it can be
  // called in a loop like Next().
  Frame Finish();

  const Counters& counters() const { return counters_; }
  // Bytes appended and not yet consumed by Next()/Finish().
  size_t buffered_bytes() const { return buffer_.size() - start_; }
  size_t max_message_bytes() const { return max_; }

 private:
  enum class State {
    kFrameStart,   // buffer_[start_] is the first byte of a frame (or nothing is buffered)
    kDiscardLine,  // dropping an LF frame through its terminator; buffer is empty
    kSkipOctets,   // dropping skip_remaining_ bytes of an octet frame; buffer is empty
  };

  Frame Decode(bool at_end);
  // Drops the buffered bytes the discard state covers; leaves the buffer empty unless the
  // discarded frame ended inside it.
  void DiscardBuffered();
  // Consumes n buffered bytes from start_.
  void Consume(size_t n);
  Frame Error(uint64_t offset, std::string_view reason);

  const size_t max_;
  const std::string oversize_error_;  // "message exceeds N bytes"

  State state_ = State::kFrameStart;
  uint64_t skip_remaining_ = 0;

  std::string buffer_;
  size_t start_ = 0;          // first unconsumed byte of buffer_
  uint64_t base_offset_ = 0;  // stream offset of buffer_[0]
  // Bytes of the current LF frame, from start_, already known to hold no terminator, so a
  // frame arriving one byte at a time is scanned once.
  size_t scanned_ = 0;

  std::string error_;  // backs Frame::error for messages built at run time
  Counters counters_;
};

}  // namespace iocd
