#include "tools/dump/dump_writer.h"

#include "tools/dump/atomic_file.h"
#include "tools/dump/formats.h"

namespace ctxd::dump {
namespace {

// The graphs to write: the one asked for, or every one where the format
// always carries graphs (json, pretty).
StatusOr<std::vector<SessionRef>> SelectSessions(const engine::State& state, const DumpRequest& request) {
  std::vector<SessionRef> selected;
  if (request.session) {
    auto it = state.sessions.find(*request.session);
    if (it == state.sessions.end()) {
      return Status::NotFound("session '" + *request.session + "' does not exist at seq " +
                              std::to_string(state.head_seq));
    }
    selected.emplace_back(&it->first, &it->second);
  } else if (request.format == DumpFormat::kJson || request.format == DumpFormat::kPretty) {
    for (const auto& [id, session] : state.sessions) selected.emplace_back(&id, &session);
  }
  return selected;
}

void WriteFormat(const DumpInput& input, DumpSink& sink) {
  switch (input.request.format) {
    case DumpFormat::kJson:
      return WriteJson(input, sink);
    case DumpFormat::kPretty:
      return WritePretty(input, sink);
    case DumpFormat::kCsv:
      return WriteCsv(input, sink);
    case DumpFormat::kTxt:
      return WriteTxt(input, sink);
  }
}

}  // namespace

StatusOr<DumpInfo> WriteDump(const engine::State& state, const DumpRequest& request, std::ostream& out) {
  auto sessions = SelectSessions(state, request);
  if (!sessions.ok()) return sessions.status();
  DumpInput input{state, request, std::move(sessions).value()};
  DumpSink sink(out);
  WriteFormat(input, sink);
  CTXD_RETURN_IF_ERROR(sink.Finish());
  DumpInfo info{request.format, state.head_seq, state.context.size(), input.sessions.size(), 0, sink.bytes()};
  for (const auto& [id, session] : input.sessions) info.node_count += session->graph.nodes.size();
  return info;
}

StatusOr<DumpInfo> WriteDumpFile(const engine::State& state, const DumpRequest& request,
                                 const std::string& path) {
  auto writer = AtomicFileWriter::Create(path);
  if (!writer.ok()) return writer.status();
  auto info = WriteDump(state, request, (*writer)->stream());
  if (!info.ok()) return info.status();
  CTXD_RETURN_IF_ERROR((*writer)->Commit());
  return info;
}

}  // namespace ctxd::dump
