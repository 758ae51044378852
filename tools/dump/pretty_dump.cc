// pretty: the old server's banner report. A title between '=' rules, the
// metadata as "Name: value" lines, then sections (CONTEXT, HISTORY,
// SESSIONS) under '-' rules. Each key or node id starts a line as a JSON
// string, followed by ": " and its value pretty-printed; the value's
// continuation lines are indented, so every entry line starts with '"'.
#include <cctype>

#include "engine/event_json.h"
#include "tools/dump/formats.h"
#include "tools/dump/json_text.h"

namespace ctxd::dump {
namespace {

const std::string kBanner(80, '=');
const std::string kRule(80, '-');

// "dump_timestamp" -> "Dump Timestamp", "store_id" -> "Store ID".
std::string Title(const std::string& name) {
  if (name == "store_id") return "Store ID";
  std::string out;
  bool start = true;
  for (char c : name) {
    if (c == '_') {
      out.push_back(' ');
      start = true;
      continue;
    }
    out.push_back(start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    start = false;
  }
  return out;
}

void WriteHeader(const DumpInput& input, DumpSink& sink) {
  std::string& out = sink.buffer();
  out.append(kBanner).append("\nCONTEXT DUMP REPORT\n").append(kBanner).push_back('\n');
  const nlohmann::ordered_json metadata = Metadata(input);
  for (const auto& [name, value] : metadata.items()) {
    out.append(Title(name)).append(": ");
    out.append(MetadataText(value));
    out.push_back('\n');
  }
  out.append(kBanner).push_back('\n');
}

void WriteSectionTitle(DumpSink& sink, const std::string& title) {
  sink.buffer().append("\n").append(title).append("\n").append(kRule).push_back('\n');
}

// `"name": value`, the value indented by 2 and its continuation lines by 2 more.
void WriteEntry(DumpSink& sink, std::string_view indent, std::string_view name, std::string_view json) {
  std::string& out = sink.buffer();
  out.append(indent);
  AppendJsonString(&out, name);
  out.append(": ");
  for (char c : IndentJson(json, 2)) {
    out.push_back(c);
    if (c == '\n') out.append(indent).append("  ");
  }
  out.push_back('\n');
  sink.MaybeFlush();
}

void WriteContext(const DumpInput& input, DumpSink& sink) {
  WriteSectionTitle(sink, "CONTEXT (" + std::to_string(input.state.context.size()) + " keys)");
  if (input.state.context.empty()) sink.Append("(no keys)\n");
  for (const auto& [key, entry] : input.state.context) WriteEntry(sink, "", key, entry.value);
}

void WriteHistory(const DumpInput& input, DumpSink& sink) {
  WriteSectionTitle(sink, "HISTORY (" + std::to_string(input.request.history.size()) + " changes)");
  std::string& out = sink.buffer();
  for (const HistoryEntry& entry : input.request.history) {
    out.append("[").append(engine::FormatTimestamp(entry.ts_us)).append("] seq ");
    out.append(std::to_string(entry.seq)).append(" ").append(entry.who).append(": ");
    AppendJsonString(&out, entry.key);
    out.append(" ").append(entry.before ? *entry.before : "null");
    out.append(" -> ").append(entry.after ? *entry.after : "null").push_back('\n');
    sink.MaybeFlush();
  }
}

void WriteSessions(const DumpInput& input, DumpSink& sink) {
  WriteSectionTitle(sink, "SESSIONS (" + std::to_string(input.sessions.size()) + ")");
  if (input.sessions.empty()) sink.Append("(no sessions)\n");
  for (const auto& [id, session] : input.sessions) {
    std::string& out = sink.buffer();
    out.append("SESSION ");
    AppendJsonString(&out, *id);
    out.append(" (" + std::to_string(session->graph.nodes.size()) + " nodes, " +
               std::to_string(session->graph.edge_count) + " edges)\n");
    for (const auto& [node_id, node] : session->graph.nodes) {
      std::string json;
      AppendNodeJson(&json, node_id, node);
      WriteEntry(sink, "  ", node_id, json);
    }
  }
}

}  // namespace

void WritePretty(const DumpInput& input, DumpSink& sink) {
  WriteHeader(input, sink);
  WriteContext(input, sink);
  if (input.request.include_history) WriteHistory(input, sink);
  WriteSessions(input, sink);
  sink.buffer().append("\n").append(kBanner).append("\nEND OF DUMP\n").append(kBanner).push_back('\n');
}

}  // namespace ctxd::dump
