// json: {"metadata": {...}, "context": {key: value}, "history"?: [...],
// "sessions": {id: {"edges": N, "nodes": [...]}}}. Indented like the old
// server's json.dump(indent=2) at the document level; each value, history
// entry and node is one compact line, so huge dumps stay line-oriented.
#include "tools/dump/formats.h"
#include "tools/dump/json_text.h"

namespace ctxd::dump {
namespace {

// `json` dumped with indent 2, nested one level deeper than its first line.
std::string Nested(const nlohmann::ordered_json& json, std::string_view indent) {
  std::string text = json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    out.push_back(c);
    if (c == '\n') out.append(indent);
  }
  return out;
}

// Opens the item: a comma after the previous one, a newline and the indent.
void NextItem(std::string& out, bool* first, std::string_view indent) {
  out.append(*first ? "\n" : ",\n");
  out.append(indent);
  *first = false;
}

void CloseBlock(std::string& out, bool empty, std::string_view indent, char close) {
  if (!empty) {
    out.push_back('\n');
    out.append(indent);
  }
  out.push_back(close);
}

void WriteContext(const DumpInput& input, DumpSink& sink) {
  std::string& out = sink.buffer();
  out.append(",\n  \"context\": {");
  bool first = true;
  for (const auto& [key, entry] : input.state.context) {
    NextItem(out, &first, "    ");
    AppendJsonString(&out, key);
    out.append(": ");
    out.append(entry.value);
    sink.MaybeFlush();
  }
  CloseBlock(out, first, "  ", '}');
}

void WriteHistory(const DumpInput& input, DumpSink& sink) {
  std::string& out = sink.buffer();
  out.append(",\n  \"history\": [");
  bool first = true;
  for (const HistoryEntry& entry : input.request.history) {
    NextItem(out, &first, "    ");
    AppendHistoryJson(&out, entry);
    sink.MaybeFlush();
  }
  CloseBlock(out, first, "  ", ']');
}

void WriteSession(const SessionRef& session, DumpSink& sink) {
  std::string& out = sink.buffer();
  AppendJsonString(&out, *session.first);
  const engine::Graph& graph = session.second->graph;
  out.append(": {\n      \"edges\": ");
  out.append(std::to_string(graph.edge_count));
  out.append(",\n      \"nodes\": [");
  bool first = true;
  for (const auto& [id, node] : graph.nodes) {
    NextItem(out, &first, "        ");
    AppendNodeJson(&out, id, node);
    sink.MaybeFlush();
  }
  CloseBlock(out, first, "      ", ']');
  out.append("\n    }");
}

void WriteSessions(const DumpInput& input, DumpSink& sink) {
  std::string& out = sink.buffer();
  out.append(",\n  \"sessions\": {");
  bool first = true;
  for (const SessionRef& session : input.sessions) {
    NextItem(out, &first, "    ");
    WriteSession(session, sink);
  }
  CloseBlock(out, first, "  ", '}');
}

}  // namespace

void WriteJson(const DumpInput& input, DumpSink& sink) {
  sink.Append("{\n  \"metadata\": ");
  sink.Append(Nested(Metadata(input), "  "));
  WriteContext(input, sink);
  if (input.request.include_history) WriteHistory(input, sink);
  WriteSessions(input, sink);
  sink.Append("\n}\n");
}

}  // namespace ctxd::dump
