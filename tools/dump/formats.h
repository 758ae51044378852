// The four format writers and what they share. Internal to tools/dump;
// callers use dump_writer.h.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/state.h"
#include "tools/dump/dump_sink.h"
#include "tools/dump/dump_writer.h"

namespace ctxd::dump {

using SessionRef = std::pair<const std::string*, const engine::Session*>;

struct DumpInput {
  const engine::State& state;
  const DumpRequest& request;
  std::vector<SessionRef> sessions;  // the graphs to write
};

// The metadata block, in the order it is written.
nlohmann::ordered_json Metadata(const DumpInput& input);

// A metadata value on a text line: strings as they are (JSON when they hold
// a control character), anything else as JSON.
std::string MetadataText(const nlohmann::ordered_json& value);

// {"id","type","name","props","parents","children"}, as GET /v1/sessions/{sid}/graph
// lists nodes; values embedded as canonical JSON. With `session`, a leading
// "session" field (csv rows, which have no other place for it).
void AppendNodeJson(std::string* out, const std::string& id, const engine::Node& node,
                    const std::string* session = nullptr);
// {"timestamp","key","before","after","who","seq"}
void AppendHistoryJson(std::string* out, const HistoryEntry& entry);

void WriteJson(const DumpInput& input, DumpSink& sink);
void WritePretty(const DumpInput& input, DumpSink& sink);
void WriteCsv(const DumpInput& input, DumpSink& sink);
void WriteTxt(const DumpInput& input, DumpSink& sink);

}  // namespace ctxd::dump
