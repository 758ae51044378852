#include "server/ws_ops.h"

#include <optional>

#include "engine/engine.h"
#include "server/command_json.h"
#include "server/json_body.h"
#include "server/read_path.h"
#include "server/responses.h"
#include "server/write_path.h"

namespace ctxd::server {
namespace {

// SetCommandId reads the Idempotency-Key header of a request; an op has none.
const HttpRequest kNoHeaders;

Status ReadId(const Json& message, std::string* id) {
  auto it = message.find("id");
  if (it == message.end() || it->is_null()) return Status::Ok();
  if (!it->is_string() && !it->is_number())
    return Status::InvalidArgument("'id' must be a string or a number");
  *id = it->dump();
  return Status::Ok();
}

// The id of a message ParseJsonObject refused (an integer beyond 64 bits
// or a lone surrogate in one of its values, say), so that a client with ops
// in flight can tell which one failed. Only a string or an integer: a
// fraction there may be a big integer nlohmann rounded, which would name an
// op the client never sent. "null" when there is no such id.
std::string IdOfRefusedMessage(std::string_view text) {
  const Json id = Json::parse(TopLevelMember(text, "id"), nullptr, /*allow_exceptions=*/false);
  return id.is_string() || id.is_number_integer() ? id.dump() : "null";
}

// "actor" and "command_id" from `fields`, falling back to the op itself.
Status ReadCommandFields(const Json& message, const Json& fields, engine::Command* command) {
  CTXD_RETURN_IF_ERROR(OptionalString(message, "actor", &command->actor));
  CTXD_RETURN_IF_ERROR(OptionalString(fields, "actor", &command->actor));
  CTXD_RETURN_IF_ERROR(ValidateActor(command->actor));
  const bool in_fields = fields.contains("command_id") && !fields["command_id"].is_null();
  return SetCommandId(kNoHeaders, in_fields ? &fields : &message, command);
}

Status ReadSession(const Json& message, engine::Command* command, bool required) {
  if (required) {
    CTXD_RETURN_IF_ERROR(RequiredString(message, "session", &command->session));
  } else {
    CTXD_RETURN_IF_ERROR(OptionalString(message, "session", &command->session));
    if (command->session.empty()) return Status::Ok();
  }
  return engine::ValidateName("session", command->session);
}

Status ParseSet(const Json& message, engine::Command* command) {
  engine::SetContext set;
  CTXD_RETURN_IF_ERROR(RequiredString(message, "key", &set.key));
  CTXD_RETURN_IF_ERROR(engine::ValidateKey(set.key));
  Status status;
  const Json* value = RequiredField(message, "value", &status);
  if (value == nullptr) return status;
  set.value = CanonicalJson(*value);
  if (auto it = message.find("if_match"); it != message.end() && !it->is_null()) {
    if (!it->is_number_unsigned()) return Status::InvalidArgument("'if_match' must be a version number");
    set.if_match = it->get<uint64_t>();
  }
  CTXD_RETURN_IF_ERROR(ReadSession(message, command, false));
  CTXD_RETURN_IF_ERROR(ReadCommandFields(message, message, command));
  command->body = std::move(set);
  return Status::Ok();
}

Status ParseCommand(const Json& message, engine::Command* command) {
  CTXD_RETURN_IF_ERROR(ReadSession(message, command, true));
  auto it = message.find("command");
  if (it == message.end() || !it->is_object()) {
    return Status::InvalidArgument("'command' must be an object such as {\"command\": \"create_node\", ...}");
  }
  auto body = ParseGraphCommand(*it);
  if (!body.ok()) return body.status();
  CTXD_RETURN_IF_ERROR(ReadCommandFields(message, *it, command));
  command->body = std::move(body).value();
  return Status::Ok();
}

Status ParseUndoRedo(const Json& message, bool undo, engine::Command* command) {
  CTXD_RETURN_IF_ERROR(ReadSession(message, command, true));
  CTXD_RETURN_IF_ERROR(ReadCommandFields(message, message, command));
  if (undo) {
    command->body = engine::Undo{};
  } else {
    command->body = engine::Redo{};
  }
  return Status::Ok();
}

// A set op that is a flat object (json_body.h) with the field types a set
// takes: read without a JSON tree, with ParseSet's checks and messages, in
// its order. nullopt for any other op (ParseWsOp parses it then).
std::optional<StatusOr<WsOp>> ParseFlatSet(std::string_view text, std::string* id) {
  FlatObject message;
  if (!ParseFlatObject(text, &message)) return std::nullopt;
  const FlatMember* name = message.Find("op");
  const FlatMember* key = message.Find("key");
  const FlatMember* value = message.Find("value");
  const FlatMember* if_match = message.Find("if_match");
  const FlatMember* fields[] = {message.Find("session"), message.Find("actor"), message.Find("command_id")};
  if (name == nullptr || !name->is_string || name->text() != "set" || key == nullptr || !key->is_string ||
      value == nullptr || (if_match != nullptr && if_match->is_string)) {
    return std::nullopt;
  }
  for (const FlatMember* field : fields) {
    if (field != nullptr && !field->is_string) return std::nullopt;
  }
  if (const FlatMember* given = message.Find("id")) *id = given->json;
  const auto string_of = [](const FlatMember* field) { return field ? field->text() : std::string_view(); };
  engine::SetContext set;
  set.key = key->text();
  CTXD_RETURN_IF_ERROR(engine::ValidateKey(set.key));
  set.value = value->json;
  if (if_match != nullptr) set.if_match = ParseUint(if_match->json);  // digits that fit in 64 bits
  WsOp op;
  op.command.session = string_of(fields[0]);
  if (!op.command.session.empty()) CTXD_RETURN_IF_ERROR(engine::ValidateName("session", op.command.session));
  op.command.actor = string_of(fields[1]);
  CTXD_RETURN_IF_ERROR(ValidateActor(op.command.actor));
  CTXD_RETURN_IF_ERROR(SetCommandId(kNoHeaders, string_of(fields[2]), &op.command));
  op.command.body = std::move(set);
  return op;
}

}  // namespace

StatusOr<WsOp> ParseWsOp(std::string_view text, std::string* id) {
  *id = "null";
  if (auto flat = ParseFlatSet(text, id)) return std::move(*flat);
  auto message = ParseJsonObject(text, "the message");
  if (!message.ok()) {
    *id = IdOfRefusedMessage(text);
    return message.status();
  }
  CTXD_RETURN_IF_ERROR(ReadId(*message, id));
  std::string name;
  CTXD_RETURN_IF_ERROR(RequiredString(*message, "op", &name));
  WsOp op;
  Status status;
  if (name == "set") {
    op.kind = WsOpKind::kSet;
    status = ParseSet(*message, &op.command);
  } else if (name == "command") {
    op.kind = WsOpKind::kCommand;
    status = ParseCommand(*message, &op.command);
  } else if (name == "undo" || name == "redo") {
    op.kind = name == "undo" ? WsOpKind::kUndo : WsOpKind::kRedo;
    status = ParseUndoRedo(*message, op.kind == WsOpKind::kUndo, &op.command);
  } else {
    std::string message_text = "unknown op ";
    AppendJsonString(&message_text, name);
    return Status::InvalidArgument(message_text + " (expected set, command, undo or redo)");
  }
  if (!status.ok()) return status;
  return op;
}

std::string RenderWsAck(WsOpKind kind, std::string_view id, const engine::CommandResult& result) {
  std::string out = "{\"op\":\"ack\",\"id\":";
  out.append(id);
  out.append(",\"seq\":");
  out.append(std::to_string(result.seq));
  switch (kind) {
    case WsOpKind::kSet: {
      // As PUT: a retried command gets its original answer.
      const bool changed = result.changed || result.deduplicated;
      out.append(",\"version\":");
      out.append(std::to_string(result.deduplicated ? result.seq : result.version));
      out.append(changed ? ",\"changed\":true}" : ",\"changed\":false}");
      return out;
    }
    case WsOpKind::kCommand:
      out.append(",\"command_id\":");
      AppendJsonString(&out, result.command_id);
      out.append(",\"result\":");
      AppendJsonOrNull(&out, result.result);
      out.push_back('}');
      return out;
    case WsOpKind::kUndo:
    case WsOpKind::kRedo:
      out.append(kind == WsOpKind::kUndo ? ",\"undoes\":" : ",\"redoes\":");
      out.append(std::to_string(result.ref_seq));
      out.push_back('}');
      return out;
  }
  return out;
}

std::string RenderWsError(std::string_view id, const Status& status) {
  return RenderWsError(id, ErrorResponse(status));
}

std::string RenderWsError(std::string_view id, const HttpResponse& error) {
  // The REST error body {"error":{...}}, so codes and messages are identical.
  const std::string& body = error.body;
  std::string out = "{\"op\":\"error\",\"id\":";
  out.append(id);
  out.push_back(',');
  out.append(body, 1, std::string::npos);
  return out;
}

}  // namespace ctxd::server
