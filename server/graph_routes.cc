// /v1/sessions... and the old POST /api/v1/commands/execute.
#include <string>
#include <utility>

#include "engine/engine.h"
#include "engine/event_json.h"
#include "server/command_json.h"
#include "server/read_path.h"
#include "server/routes.h"
#include "server/write_path.h"

namespace ctxd::server {
namespace {

const std::string& SessionParam(const HttpRequest& request) { return request.segments[2]; }

void AppendNode(std::string* out, const std::string& id, const engine::Node& node) {
  out->push_back('{');
  engine::AppendNodeFields(out, id, node);
  out->push_back('}');
}

// Tells the Socket.IO room of a session about a refused command
// (command:failed) before the answer goes on to the client.
class RefusalReporter : public ResponseSink {
 public:
  RefusalReporter(ServerContext& ctx, Responder respond, std::string session, std::string_view command_type,
                  std::string body)
      : ctx_(ctx),
        respond_(std::move(respond)),
        session_(std::move(session)),
        command_type_(command_type),
        body_(std::move(body)) {}
  void Deliver(uint64_t, HttpResponse response) override {
    if (response.status >= 400) ctx_.command_refused(session_, command_type_, body_, response.body);
    respond_(std::move(response));
  }

 private:
  ServerContext& ctx_;
  const Responder respond_;
  const std::string session_;
  const std::string command_type_;
  const std::string body_;
};

// `command_type`: the route's command (undo, redo, save, restore); empty
// for the command routes, whose body names it.
Responder ReportRefusals(ServerContext& ctx, const HttpRequest& request, std::string_view session,
                         const Responder& respond, std::string_view command_type = {}) {
  if (!ctx.command_refused) return respond;
  return Responder(
      std::make_shared<RefusalReporter>(ctx, respond, std::string(session), command_type, request.body), 0);
}

HttpResponse SessionNotFound(const std::string& session) {
  return NotFound("session '" + session + "' does not exist");
}

// A body that may be empty (undo, redo): {} when it is.
StatusOr<Json> OptionalBody(const HttpRequest& request) {
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  return ParseJsonObject(request.body);
}

// Session from the path, actor and command id from the body.
Status PrepareCommand(const HttpRequest& request, const std::string& session, const Json& body,
                      engine::Command* command) {
  CTXD_RETURN_IF_ERROR(engine::ValidateName("session", session));
  command->session = session;
  CTXD_RETURN_IF_ERROR(OptionalString(body, "actor", &command->actor));
  CTXD_RETURN_IF_ERROR(ValidateActor(command->actor));
  return SetCommandId(request, &body, command);
}

std::string RenderCommandResult(const engine::CommandResult& result) {
  std::string out = "{\"seq\":" + std::to_string(result.seq) + ",\"command_id\":";
  AppendJsonString(&out, result.command_id);
  out.append(",\"result\":");
  AppendJsonOrNull(&out, result.result);
  out.push_back('}');
  return out;
}

// Parses the graph command in `request` for `session`; answers the error itself.
bool ParseCommandRequest(const HttpRequest& request, const std::string& session, const Responder& respond,
                         engine::Command* command) {
  auto body = ParseJsonObject(request.body);
  if (!body.ok()) {
    respond(ErrorResponse(body.status()));
    return false;
  }
  auto parsed = ParseGraphCommand(*body);
  Status status = parsed.ok() ? PrepareCommand(request, session, *body, command) : parsed.status();
  if (!status.ok()) {
    respond(ErrorResponse(status));
    return false;
  }
  command->body = std::move(parsed).value();
  return true;
}

void UndoOrRedo(ServerContext& ctx, HttpRequest& request, const Responder& respond_directly, bool undo) {
  const Responder respond =
      ReportRefusals(ctx, request, SessionParam(request), respond_directly, undo ? "undo" : "redo");
  auto body = OptionalBody(request);
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  engine::Command command;
  if (Status s = PrepareCommand(request, SessionParam(request), *body, &command); !s.ok()) {
    return respond(ErrorResponse(s));
  }
  if (undo) {
    command.body = engine::Undo{};
  } else {
    command.body = engine::Redo{};
  }
  SubmitCommand(ctx, std::move(command), respond, [undo](const engine::CommandResult& result) {
    return JsonResponse("{\"seq\":" + std::to_string(result.seq) + (undo ? ",\"undoes\":" : ",\"redoes\":") +
                        std::to_string(result.ref_seq) + "}");
  });
}

}  // namespace

void ListSessions(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  ReadState(ctx, request, respond, [&ctx](const engine::State& state, uint64_t) {
    std::string body = "[";
    for (const auto& [id, session] : state.sessions) {
      if (body.size() > 1) body.push_back(',');
      body.append("{\"id\":");
      AppendJsonString(&body, id);
      body.append(",\"nodes\":" + std::to_string(session.graph.nodes.size()) +
                  ",\"edges\":" + std::to_string(session.graph.edge_count) +
                  ",\"undo_depth\":" + std::to_string(session.undo.size()) +
                  ",\"redo_depth\":" + std::to_string(session.redo.size()) +
                  ",\"clients\":" + std::to_string(ctx.session_clients ? ctx.session_clients(id) : 0) +
                  ",\"last_seq\":" + std::to_string(session.last_seq) + "}");
    }
    body.push_back(']');
    return JsonResponse(std::move(body));
  });
}

void GetGraph(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  const std::string session = SessionParam(request);
  if (Status s = engine::ValidateName("session", session); !s.ok()) return respond(ErrorResponse(s));
  const auto render = [session](const engine::State& state, uint64_t seq) {
    auto it = state.sessions.find(session);
    if (it == state.sessions.end()) return SessionNotFound(session);
    std::string body = "{\"seq\":" + std::to_string(seq) + ",\"session\":";
    AppendJsonString(&body, session);
    body.append(",\"nodes\":[");
    bool first = true;
    for (const auto& [id, node] : it->second.graph.nodes) {
      if (!first) body.push_back(',');
      first = false;
      AppendNode(&body, id, node);
    }
    body.append("]}");
    return JsonResponse(std::move(body));
  };
  ReadState(ctx, request, respond, render, [&session](const engine::State& state) {
    auto it = state.sessions.find(session);
    if (it == state.sessions.end()) return false;
    // Each edge is listed twice: in its parent's children and its child's parents.
    const engine::Graph& graph = it->second.graph;
    return graph.nodes.size() + 2 * graph.edge_count > kLongListing;
  });
}

void GetNode(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  const std::string session = SessionParam(request);
  const std::string node_id = request.segments[4];
  Status s = engine::ValidateName("session", session);
  if (s.ok()) s = engine::ValidateName("node_id", node_id);
  if (!s.ok()) return respond(ErrorResponse(s));
  ReadState(ctx, request, respond, [session, node_id](const engine::State& state, uint64_t) {
    auto it = state.sessions.find(session);
    if (it == state.sessions.end()) return SessionNotFound(session);
    auto node = it->second.graph.nodes.find(node_id);
    if (node == it->second.graph.nodes.end()) {
      return NotFound("node '" + node_id + "' does not exist in session '" + session + "'");
    }
    std::string body;
    AppendNode(&body, node->first, node->second);
    return JsonResponse(std::move(body));
  });
}

void PostCommand(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  const Responder reply = ReportRefusals(ctx, request, SessionParam(request), respond);
  engine::Command command;
  if (!ParseCommandRequest(request, SessionParam(request), reply, &command)) return;
  SubmitCommand(ctx, std::move(command), reply, [](const engine::CommandResult& result) {
    return JsonResponse(RenderCommandResult(result));
  });
}

void LegacyExecuteCommand(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  auto session = request.Header("X-Session-ID");
  if (!session || session->empty()) return respond(BadRequest("the X-Session-ID header is required"));
  const Responder reply = ReportRefusals(ctx, request, *session, respond);
  engine::Command command;
  if (!ParseCommandRequest(request, std::string(*session), reply, &command)) return;
  SubmitCommand(ctx, std::move(command), reply, [](const engine::CommandResult& result) {
    std::string out = "{\"success\":true,\"result\":";
    AppendJsonOrNull(&out, result.result);
    out.append(",\"seq\":" + std::to_string(result.seq) + "}");
    return JsonResponse(std::move(out));
  });
}

void PostUndo(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  UndoOrRedo(ctx, request, respond, true);
}

void PostRedo(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  UndoOrRedo(ctx, request, respond, false);
}

void PostSave(ServerContext& ctx, HttpRequest& request, const Responder& respond_directly) {
  const Responder respond = ReportRefusals(ctx, request, SessionParam(request), respond_directly, "save");
  auto body = ParseJsonObject(request.body);
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  engine::SaveSession save;
  engine::Command command;
  Status s = RequiredString(*body, "name", &save.name);
  if (s.ok()) s = PrepareCommand(request, SessionParam(request), *body, &command);
  if (!s.ok()) return respond(ErrorResponse(s));
  std::string name = save.name;
  command.body = std::move(save);
  SubmitCommand(ctx, std::move(command), respond, [name](const engine::CommandResult& result) {
    std::string out = "{\"seq\":" + std::to_string(result.seq) + ",\"name\":";
    AppendJsonString(&out, name);
    out.push_back('}');
    return JsonResponse(std::move(out));
  });
}

void ListSaves(ServerContext& ctx, HttpRequest& request, const Responder& respond) {
  const std::string session = SessionParam(request);
  if (Status s = engine::ValidateName("session", session); !s.ok()) return respond(ErrorResponse(s));
  ReadState(ctx, request, respond, [session](const engine::State& state, uint64_t) {
    auto it = state.sessions.find(session);
    if (it == state.sessions.end()) return SessionNotFound(session);
    std::string body = "[";
    for (const auto& [name, save] : it->second.saves) {
      if (body.size() > 1) body.push_back(',');
      body.append("{\"name\":");
      AppendJsonString(&body, name);
      body.append(",\"seq\":" + std::to_string(save.seq) + ",\"ts\":\"" +
                  engine::FormatTimestamp(save.ts_us) + "\"}");
    }
    body.push_back(']');
    return JsonResponse(std::move(body));
  });
}

void PostRestore(ServerContext& ctx, HttpRequest& request, const Responder& respond_directly) {
  const Responder respond = ReportRefusals(ctx, request, SessionParam(request), respond_directly, "restore");
  auto body = ParseJsonObject(request.body);
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  engine::Command fields;
  std::string name;
  Status s = PrepareCommand(request, SessionParam(request), *body, &fields);
  if (s.ok()) s = OptionalString(*body, "name", &name);
  const auto it = body->find("seq");
  const bool has_seq = it != body->end() && !it->is_null();
  if (s.ok() && !name.empty() && has_seq)
    s = Status::InvalidArgument("restore takes a 'name' or a 'seq', not both");
  uint64_t seq = 0;
  if (s.ok() && name.empty()) {
    if (!has_seq || !it->is_number_unsigned()) {
      s = Status::InvalidArgument("restore needs a 'name' (string) or a 'seq' (non-negative integer)");
    } else {
      seq = it->get<uint64_t>();
    }
  }
  if (!s.ok()) return respond(ErrorResponse(s));
  // Rebuilding the target graph replays the log: off the I/O threads.
  ctx.OffloadRead(respond, [&ctx, fields = std::move(fields), name, seq](const Responder& done) {
    auto command = ctx.store.MakeRestore(fields.session, name, seq);
    if (!command.ok()) return done(ErrorResponse(command.status()));
    command->actor = fields.actor;
    command->command_id = fields.command_id;
    command->client_command_id = fields.client_command_id;
    SubmitCommand(ctx, std::move(command).value(), done, [](const engine::CommandResult& result) {
      return JsonResponse(RenderCommandResult(result));
    });
  });
}

}  // namespace ctxd::server
