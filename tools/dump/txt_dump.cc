// txt: "# name: value" metadata lines, then one key=value line per key
// (a string's text, anything else JSON). With a session, a
// "# session <id>: N nodes" line and one <node id>=<node JSON> line per node.
// So that every entry stays one unambiguous line: a key (or node id) that
// contains '=' or starts with '"' or '#' is written as a JSON string, and
// so is a string value that contains a control character or starts with '"'.
#include "tools/dump/formats.h"
#include "tools/dump/json_text.h"

namespace ctxd::dump {
namespace {

bool HasControl(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

void AppendName(std::string* out, std::string_view name) {
  bool quote = name.find('=') != std::string_view::npos || name.starts_with('"') || name.starts_with('#');
  if (quote) {
    AppendJsonString(out, name);
  } else {
    out->append(name);
  }
}

void AppendValue(std::string* out, std::string_view canonical) {
  if (KindOf(canonical) != JsonKind::kString) {
    out->append(canonical);
    return;
  }
  std::string text = PlainText(canonical);
  if (HasControl(text) || text.starts_with('"')) {
    out->append(canonical);
  } else {
    out->append(text);
  }
}

void WriteHeader(const DumpInput& input, DumpSink& sink) {
  std::string& out = sink.buffer();
  out.append("# ctxd context dump\n");
  const nlohmann::ordered_json metadata = Metadata(input);
  for (const auto& [name, value] : metadata.items()) {
    out.append("# ").append(name).append(": ");
    out.append(MetadataText(value));
    out.push_back('\n');
  }
}

}  // namespace

void WriteTxt(const DumpInput& input, DumpSink& sink) {
  WriteHeader(input, sink);
  for (const auto& [key, entry] : input.state.context) {
    std::string& out = sink.buffer();
    AppendName(&out, key);
    out.push_back('=');
    AppendValue(&out, entry.value);
    out.push_back('\n');
    sink.MaybeFlush();
  }
  for (const auto& [id, session] : input.sessions) {
    std::string& out = sink.buffer();
    out.append("# session ").append(*id).append(": ");
    out.append(std::to_string(session->graph.nodes.size())).append(" nodes\n");
    for (const auto& [node_id, node] : session->graph.nodes) {
      AppendName(&out, node_id);
      out.push_back('=');
      AppendNodeJson(&out, node_id, node);
      out.push_back('\n');
      sink.MaybeFlush();
    }
  }
}

}  // namespace ctxd::dump
