#include "app/metrics.h"

#include <gtest/gtest.h>

namespace iocd {
namespace {

TEST(MetricsWriterTest, FamiliesGroupedInFirstNamedOrderWithEscapedLabels) {
  MetricsWriter m;
  m.Counter("iocd_events_total", "Events processed.", {}, 12);
  m.Counter("iocd_input_messages_total", "Messages received.", {{"input", "siem"}}, 7);
  m.Gauge("iocd_index_indicators", "Indicators in the index.", {}, 3);
  m.Counter("iocd_input_messages_total", "Messages received.", {{"input", "a\"b\\c\nd"}}, 0);
  m.Counter("iocd_input_frame_errors_total", "Frames discarded.", {{"input", "siem"}, {"reason", "oversized"}}, 2);
  EXPECT_EQ(m.Text(),
            "# HELP iocd_events_total Events processed.\n"
            "# TYPE iocd_events_total counter\n"
            "iocd_events_total 12\n"
            "# HELP iocd_input_messages_total Messages received.\n"
            "# TYPE iocd_input_messages_total counter\n"
            "iocd_input_messages_total{input=\"siem\"} 7\n"
            "iocd_input_messages_total{input=\"a\\\"b\\\\c\\nd\"} 0\n"
            "# HELP iocd_index_indicators Indicators in the index.\n"
            "# TYPE iocd_index_indicators gauge\n"
            "iocd_index_indicators 3\n"
            "# HELP iocd_input_frame_errors_total Frames discarded.\n"
            "# TYPE iocd_input_frame_errors_total counter\n"
            "iocd_input_frame_errors_total{input=\"siem\",reason=\"oversized\"} 2\n");
}

TEST(MetricsWriterTest, EmptyWriterRendersNothing) { EXPECT_EQ(MetricsWriter().Text(), ""); }

}  // namespace
}  // namespace iocd
