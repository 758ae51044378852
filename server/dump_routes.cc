// The dump routes: POST/GET /v1/dumps, GET /v1/dumps/{name}, and the old
// context server's POST /ctx/dump, GET /ctx/dump/list, GET /ctx/dump/<filename>
// (API.md). The work is done by the DumpService on the worker pool; these
// handlers parse the request, check names on the I/O thread (a traversal
// attempt never reaches the pool) and render the answer.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "engine/engine.h"
#include "engine/event_json.h"
#include "server/dump_service.h"
#include "server/json_body.h"
#include "server/read_path.h"
#include "server/routes.h"
#include "tools/dump/dump_names.h"

namespace ctxd::server {
namespace {

using ErrorForm = HttpResponse (*)(const Status& status);

HttpResponse LegacyErrorFor(const Status& status) {
  return LegacyError(HttpStatusFor(status.code()), status.message());
}

// Dump names are echoed in error messages, which must stay valid UTF-8
// (query parameters and path segments are percent-decoded bytes).
Status CheckUtf8(std::string_view name) {
  if (engine::IsValidUtf8(name)) return Status::Ok();
  return Status::InvalidArgument("a dump name is UTF-8 text of letters, digits, '.', '_' and '-'");
}

// The field names and leniency of the two dialects of "make a dump".
struct SpecFields {
  const char* name;  // "name" / "filename"
  const char* who;   // "actor" / "who"
  bool format_required;
  bool text_values;  // include_history and at may be strings (query parameters)
};
constexpr SpecFields kNativeFields{"name", "actor", true, false};
constexpr SpecFields kLegacyFields{"filename", "who", false, true};

// A query parameter's truth value, as forms and shells write it.
std::optional<bool> ParseBoolText(std::string_view text) {
  for (std::string_view yes : {"true", "True", "TRUE", "1", "yes", "on"}) {
    if (text == yes) return true;
  }
  for (std::string_view no : {"false", "False", "FALSE", "0", "no", "off", ""}) {
    if (text == no) return false;
  }
  return std::nullopt;
}

Status BoolField(const Json& fields, const char* name, bool text_values, bool* out) {
  auto it = fields.find(name);
  if (it == fields.end() || it->is_null()) return Status::Ok();
  std::optional<bool> value;
  if (it->is_boolean()) value = it->get<bool>();
  if (text_values && it->is_string()) value = ParseBoolText(it->get_ref<const std::string&>());
  if (!value) return FieldError(name, "must be true or false");
  *out = *value;
  return Status::Ok();
}

Status SeqField(const Json& fields, const char* name, bool text_values, std::optional<uint64_t>* out) {
  auto it = fields.find(name);
  if (it == fields.end() || it->is_null()) return Status::Ok();
  if (it->is_number_unsigned()) {
    *out = it->get<uint64_t>();
    return Status::Ok();
  }
  if (text_values && it->is_string()) {
    if (auto seq = ParseUint(it->get_ref<const std::string&>())) {
      *out = *seq;
      return Status::Ok();
    }
  }
  return FieldError(name, "must be a sequence number");
}

StatusOr<DumpSpec> ParseSpec(const Json& fields, const SpecFields& names) {
  DumpSpec spec;
  std::string format = "json";
  CTXD_RETURN_IF_ERROR(names.format_required ? RequiredString(fields, "format", &format)
                                             : OptionalString(fields, "format", &format));
  auto parsed = dump::ParseDumpFormat(format);
  if (!parsed) return Status::InvalidArgument("'format' must be json, pretty, csv or txt");
  spec.format = *parsed;
  CTXD_RETURN_IF_ERROR(OptionalString(fields, names.name, &spec.name));
  // Checked here, on the I/O thread, so that a traversal attempt costs nothing.
  CTXD_RETURN_IF_ERROR(CheckUtf8(spec.name));
  CTXD_RETURN_IF_ERROR(dump::SanitizeDumpName(spec.name, spec.format, 0).status());
  CTXD_RETURN_IF_ERROR(SeqField(fields, "at", names.text_values, &spec.at));
  CTXD_RETURN_IF_ERROR(BoolField(fields, "include_history", names.text_values, &spec.include_history));
  std::string session;
  CTXD_RETURN_IF_ERROR(OptionalString(fields, "session", &session));
  if (!session.empty()) {
    CTXD_RETURN_IF_ERROR(engine::ValidateName("session", session));
    spec.session = std::move(session);
  }
  std::string who;
  CTXD_RETURN_IF_ERROR(OptionalString(fields, names.who, &who));
  CTXD_RETURN_IF_ERROR(ValidateActor(who));
  spec.who = std::move(who);
  return spec;
}

// POST /ctx/dump takes a JSON body or query parameters; a body field wins
// over a query parameter of the same name. Any body must be a JSON object
// (whatever its Content-Type, so that `curl -d '{...}'` works).
StatusOr<Json> LegacyFields(const HttpRequest& request) {
  Json fields = Json::object();
  for (const auto& [name, value] : request.query) fields[name] = value;
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return fields;
  auto body = ParseJsonObject(request.body);
  if (!body.ok()) return body.status();
  for (auto& [name, value] : body->items()) fields[name] = std::move(value);
  return fields;
}

void AppendField(std::string* out, std::string_view name, std::string_view text, bool first = false) {
  AppendJsonKey(out, name, first);
  AppendJsonString(out, text);
}

void AppendNumber(std::string* out, std::string_view name, uint64_t value) {
  AppendJsonKey(out, name);
  out->append(std::to_string(value));
}

// {"name","format","seq","bytes","key_count","session_count","node_count","timestamp"}
std::string NativeRecordJson(const DumpRecord& record) {
  std::string out = "{";
  AppendField(&out, "name", record.name, true);
  AppendField(&out, "format", dump::DumpFormatName(record.info.format));
  AppendNumber(&out, "seq", record.info.seq);
  AppendNumber(&out, "bytes", record.info.bytes);
  AppendNumber(&out, "key_count", record.info.key_count);
  AppendNumber(&out, "session_count", record.info.session_count);
  AppendNumber(&out, "node_count", record.info.node_count);
  AppendField(&out, "timestamp", engine::FormatTimestamp(record.ts_us));
  out.push_back('}');
  return out;
}

// The old answer's fields (without "status"), plus ctxd's "seq".
void AppendLegacyRecordFields(std::string* out, const DumpRecord& record, bool first) {
  AppendField(out, "filename", record.name, first);
  AppendField(out, "format", dump::DumpFormatName(record.info.format));
  AppendField(out, "path", record.path);
  AppendNumber(out, "key_count", record.info.key_count);
  AppendNumber(out, "file_size", record.info.bytes);
  AppendField(out, "timestamp", engine::FormatTimestamp(record.ts_us));
  AppendField(out, "who", record.who);
  AppendNumber(out, "seq", record.info.seq);
}

// Ends the dump DumpService::Admit let in, however its task ends.
class AdmittedDump {
 public:
  explicit AdmittedDump(DumpService& dumps) : dumps_(dumps) {}
  ~AdmittedDump() { dumps_.Finish(); }
  AdmittedDump(const AdmittedDump&) = delete;
  AdmittedDump& operator=(const AdmittedDump&) = delete;

 private:
  DumpService& dumps_;
};

void CreateDump(ServerContext& ctx, DumpSpec spec, const Responder& respond, ErrorForm error,
                std::string (*render)(const DumpRecord&)) {
  if (!ctx.dumps.Admit()) {
    HttpResponse busy =
        error(Status::Unavailable("another dump is being written: try again when it is done"));
    busy.headers.emplace_back("Retry-After", "1");
    return respond(std::move(busy));
  }
  ctx.OffloadRead(respond, [&ctx, spec = std::move(spec), error, render](const Responder& done) {
    // Finished before the answer goes out: the client's next dump is let in.
    auto record = [&] {
      const AdmittedDump admitted(ctx.dumps);
      return ctx.dumps.Create(spec);
    }();
    done(record.ok() ? JsonResponse(render(*record)) : error(record.status()));
  });
}

std::string LegacyAnswer(const DumpRecord& record) {
  std::string out = "{\"status\":\"success\"";
  AppendLegacyRecordFields(&out, record, false);
  out.push_back('}');
  return out;
}

const char* ContentTypeFor(std::string_view name) {
  if (name.ends_with(".json")) return "application/json";
  if (name.ends_with(".csv")) return "text/csv; charset=utf-8";
  if (name.ends_with(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// The whole file at `path`; kNotFound unless it is a regular file (a
// symbolic link in the dump directory is not followed).
StatusOr<std::string> ReadDumpFile(const std::string& path, std::string_view name) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    if (fd >= 0 || error == ENOENT || error == ELOOP || error == ENOTDIR) {
      return Status::NotFound("no dump named '" + std::string(name) + "'");
    }
    return Status::Unavailable("cannot open " + path + ": " + std::strerror(error));
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  data.resize(done);
  return data;
}

void ServeDump(ServerContext& ctx, const std::string& name, const Responder& respond, ErrorForm error) {
  if (Status valid = CheckUtf8(name); !valid.ok()) return respond(error(valid));
  auto path = dump::DumpPath(ctx.dumps.dir(), name);
  if (!path.ok()) return respond(error(path.status()));
  ctx.OffloadRead(respond, [path = *path, name, error](const Responder& done) {
    auto data = ReadDumpFile(path, name);
    if (!data.ok()) return done(error(data.status()));
    HttpResponse response;
    response.content_type = ContentTypeFor(name);
    response.body = std::move(data).value();
    response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
    done(std::move(response));
  });
}

}  // namespace

void PostDump(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  auto body = ParseJsonObject(request.body);
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  auto spec = ParseSpec(*body, kNativeFields);
  if (!spec.ok()) return respond(ErrorResponse(spec.status()));
  CreateDump(ctx, std::move(spec).value(), respond, ErrorResponse, NativeRecordJson);
}

void ListDumps(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  (void)request;
  ctx.OffloadRead(respond, [&ctx](const Responder& done) {
    auto files = dump::ListDumpFiles(ctx.dumps.dir());
    if (!files.ok()) return done(ErrorResponse(files.status()));
    std::string body = "{\"dumps\":[";
    for (const auto& file : *files) {
      if (body.back() != '[') body.push_back(',');
      body.push_back('{');
      AppendField(&body, "name", file.name, true);
      AppendNumber(&body, "bytes", file.size);
      AppendField(&body, "created", engine::FormatTimestamp(file.created_us));
      AppendField(&body, "modified", engine::FormatTimestamp(file.modified_us));
      body.push_back('}');
    }
    body.append("]}");
    done(JsonResponse(std::move(body)));
  });
}

void GetDump(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  ServeDump(ctx, request.segments[2], respond, ErrorResponse);
}

void LegacyPostDump(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  auto fields = LegacyFields(request);
  if (!fields.ok()) return respond(LegacyError(400, "invalid JSON: " + fields.status().message()));
  auto spec = ParseSpec(*fields, kLegacyFields);
  if (!spec.ok()) return respond(LegacyErrorFor(spec.status()));
  CreateDump(ctx, std::move(spec).value(), respond, LegacyErrorFor, LegacyAnswer);
}

void LegacyListDumps(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  (void)request;
  ctx.OffloadRead(respond, [&ctx](const Responder& done) {
    auto files = dump::ListDumpFiles(ctx.dumps.dir());
    if (!files.ok()) return done(LegacyErrorFor(files.status()));
    std::string body = "{\"status\":\"success\"";
    AppendField(&body, "dump_directory", ctx.dumps.dir());
    AppendNumber(&body, "dump_count", files->size());
    body.append(",\"dump_files\":[");
    for (const auto& file : *files) {
      if (body.back() != '[') body.push_back(',');
      body.push_back('{');
      AppendField(&body, "filename", file.name, true);
      AppendField(&body, "path", file.path);
      AppendNumber(&body, "size", file.size);
      AppendField(&body, "created", engine::FormatTimestamp(file.created_us));
      AppendField(&body, "modified", engine::FormatTimestamp(file.modified_us));
      body.push_back('}');
    }
    body.append("],\"dump_history\":[");
    for (const auto& record : ctx.dumps.History()) {
      if (body.back() != '[') body.push_back(',');
      body.push_back('{');
      AppendLegacyRecordFields(&body, record, true);
      body.push_back('}');
    }
    body.append("]");
    AppendField(&body, "timestamp", NowTimestamp());
    body.push_back('}');
    done(JsonResponse(std::move(body)));
  });
}

void LegacyGetDump(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  ServeDump(ctx, request.segments[2], respond, LegacyErrorFor);
}

}  // namespace ctxd::server
