// csv: header Key,Value,Type,Dump_Timestamp,Requested_By, one row per key
// (Value: a string's text, anything else JSON; Type: Python's type name as
// the old server wrote it). With a session, one row per node after the
// keys: Key = node id, Value = the node's JSON with its "session",
// Type = graph_node.
// RFC 4180: CRLF line ends; a field with a comma, quote, CR or LF is quoted
// and its quotes doubled.
#include "engine/event_json.h"
#include "tools/dump/csv_field.h"
#include "tools/dump/formats.h"
#include "tools/dump/json_text.h"

namespace ctxd::dump {
namespace {

constexpr std::string_view kHeader = "Key,Value,Type,Dump_Timestamp,Requested_By\r\n";

// ",<timestamp>,<requested_by>\r\n": the same for every row.
std::string RowTail(const DumpRequest& request) {
  std::string tail(",");
  AppendCsvField(&tail, engine::FormatTimestamp(request.dump_ts_us));
  tail.push_back(',');
  AppendCsvField(&tail, request.requested_by);
  tail.append("\r\n");
  return tail;
}

void WriteRow(DumpSink& sink, std::string_view key, std::string_view value, std::string_view type,
              const std::string& tail) {
  std::string& out = sink.buffer();
  AppendCsvField(&out, key);
  out.push_back(',');
  AppendCsvField(&out, value);
  out.push_back(',');
  out.append(type);
  out.append(tail);
  sink.MaybeFlush();
}

}  // namespace

void WriteCsv(const DumpInput& input, DumpSink& sink) {
  const std::string tail = RowTail(input.request);
  sink.Append(kHeader);
  for (const auto& [key, entry] : input.state.context) {
    WriteRow(sink, key, PlainText(entry.value), PythonTypeName(entry.value), tail);
  }
  for (const auto& [id, session] : input.sessions) {
    for (const auto& [node_id, node] : session->graph.nodes) {
      std::string json;
      AppendNodeJson(&json, node_id, node, id);
      WriteRow(sink, node_id, json, "graph_node", tail);
    }
  }
}

}  // namespace ctxd::dump
