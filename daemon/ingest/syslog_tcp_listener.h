// Compatibility header: the TCP listener is now SyslogStreamListener (ingest/
// syslog_stream_listener.h) with Transport::kTcp. Code that only needs ReceivedEvent should
// include ingest/received_event.h.
#pragma once

#include "ingest/received_event.h"
#include "ingest/syslog_stream_listener.h"
